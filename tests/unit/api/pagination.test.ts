// Date ranges of list requests: at most 31 days, a missing end filled from the other, and cursors that round-trip.
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, page, resolveRange } from '../../../src/api/pagination.ts';
import type { AppError } from '../../../src/domain/errors.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-22T12:00:00Z');

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return { code: (e as AppError).code, message: (e as AppError).message };
  }
  throw new Error('expected a refusal');
};

describe('resolveRange', () => {
  it('keeps a range of up to 31 days as given', () => {
    expect(resolveRange({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }, NOW)).toEqual({
      fromMs: Date.parse('2026-01-01T00:00:00Z'),
      toMs: Date.parse('2026-02-01T00:00:00Z'),
    });
  });

  it('refuses a longer range with BAD_REQUEST saying how long it is and what to do', () => {
    const r = refusal(() => resolveRange({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:01Z' }, NOW));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toMatch(/spans 31\.1 days; ask for at most 31 days/);
  });

  it('refuses from at or after to', () => {
    expect(
      refusal(() => resolveRange({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, NOW)).code,
    ).toBe('BAD_REQUEST');
  });

  it('fills a missing end from the other one, and with neither takes the last 31 days', () => {
    const from = Date.parse('2026-03-01T00:00:00Z');
    expect(resolveRange({ from: '2026-03-01T00:00:00Z' }, NOW)).toEqual({
      fromMs: from,
      toMs: from + 31 * DAY,
    });
    expect(resolveRange({ to: '2026-03-01T00:00:00Z' }, NOW)).toEqual({
      fromMs: from - 31 * DAY,
      toMs: from,
    });
    const last = resolveRange({}, NOW);
    expect(last.fromMs).toBe(NOW - 31 * DAY);
    expect(last.toMs).toBeGreaterThan(NOW + 365 * DAY);
  });
});

describe('cursors', () => {
  it('round-trip the sort key, and a page has a next cursor only when it is full', () => {
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00Z', 42]), ['time', 'number'])).toEqual([
      '2026-01-01T00:00:00Z',
      42,
    ]);
    const rows = [{ id: 'a' }, { id: 'b' }];
    expect(
      page(
        rows,
        2,
        (r) => r.id,
        (r) => [r.id],
      ).nextCursor,
    ).toBe(encodeCursor(['b']));
    expect(
      page(
        rows,
        3,
        (r) => r.id,
        (r) => [r.id],
      ).nextCursor,
    ).toBeNull();
  });

  it('refuses cursors this API did not issue', () => {
    expect(refusal(() => decodeCursor('not-base64-json', ['string'])).code).toBe('BAD_REQUEST');
    expect(refusal(() => decodeCursor(encodeCursor(['a', 1]), ['string', 'number', 'number'])).code).toBe(
      'BAD_REQUEST',
    );
    // The right length but the wrong types: refused here, before SQL could choke on it (a 500 otherwise).
    expect(refusal(() => decodeCursor(encodeCursor(['abc']), ['number'])).code).toBe('BAD_REQUEST');
    expect(refusal(() => decodeCursor(encodeCursor(['yesterday', 'x']), ['time', 'string'])).code).toBe(
      'BAD_REQUEST',
    );
  });
});
