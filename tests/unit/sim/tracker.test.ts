// The tracker's resend schedule: a message not yet acknowledged is sent again, less and less often.
import { describe, expect, it } from 'vitest';
import { resendDelayMs } from '../../../device-sim/tracker.ts';

describe('resend schedule', () => {
  it('doubles from the base with every copy, capped at a minute, jittered ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((a) => resendDelayMs(5000, a, mid))).toEqual([
      5000, 10_000, 20_000, 40_000, 60_000,
    ]);
    expect(resendDelayMs(5000, 30, mid)).toBe(60_000);
    expect(resendDelayMs(5000, 1, () => 0)).toBe(4000);
    expect(resendDelayMs(5000, 1, () => 1)).toBe(6000);
  });
});
