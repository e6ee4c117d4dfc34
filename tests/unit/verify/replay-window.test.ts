import { describe, expect, it } from 'vitest';
import {
  acceptSeq,
  classifySeq,
  EMPTY_WINDOW,
  type ReplayWindow,
  WINDOW_SIZE,
  windowFromDb,
  windowToHex,
} from '../../../src/verify/replay-window.ts';

const acceptAll = (seqs: number[], w: ReplayWindow = EMPTY_WINDOW) => seqs.reduce(acceptSeq, w);

describe('replay window', () => {
  it('takes any first seq, including 0, as new', () => {
    expect(classifySeq(EMPTY_WINDOW, 0)).toBe('new');
    expect(classifySeq(EMPTY_WINDOW, 1_000_000)).toBe('new');
  });

  it('reports an accepted seq as seen, in order or not', () => {
    const w = acceptAll([5, 3, 9, 4]);
    for (const s of [3, 4, 5, 9]) expect(classifySeq(w, s)).toBe('seen');
    for (const s of [6, 7, 8, 10]) expect(classifySeq(w, s)).toBe('new');
    expect(w.highest).toBe(9);
  });

  it('accepts a gap filled late as long as it is inside the window', () => {
    const w = acceptAll([1, 2, WINDOW_SIZE]);
    expect(classifySeq(w, 3)).toBe('new');
    expect(classifySeq(acceptSeq(w, 3), 3)).toBe('seen');
  });

  it(`reports seqs ${WINDOW_SIZE} or more below the highest as below the window`, () => {
    const w = acceptAll([10_000]);
    expect(classifySeq(w, 10_000 - WINDOW_SIZE + 1)).toBe('new');
    expect(classifySeq(w, 10_000 - WINDOW_SIZE)).toBe('below');
    expect(acceptSeq(w, 1)).toBe(w);
  });

  it('forgets bits that slide out of the window, and a jump larger than the window clears it', () => {
    const w = acceptAll([1, 2, 3, 3 + WINDOW_SIZE * 2]);
    expect(w.bitmap).toBe(1n);
    expect(classifySeq(w, 3)).toBe('below');
  });

  it('round-trips through its database form', () => {
    const w = acceptAll([100, 98, 64, 3]);
    const back = windowFromDb(String(w.highest), windowToHex(w));
    expect(back).toEqual(w);
    expect(windowFromDb(null, null)).toEqual(EMPTY_WINDOW);
  });
});
