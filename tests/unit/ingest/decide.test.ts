import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideSeqs, pairsToLookUp, type SeqCandidate } from '../../../src/ingest/decide.ts';
import {
  acceptSeq,
  EMPTY_WINDOW,
  type ReplayWindow,
  WINDOW_SIZE,
} from '../../../src/verify/replay-window.ts';

const h = (s: string) => createHash('sha256').update(s).digest();
const c = (deviceId: string, seq: number, body: string): SeqCandidate => ({
  deviceId,
  seq,
  payloadSha256: h(body),
});

describe('replay decisions', () => {
  it('accepts new seqs and tells an exact duplicate in the same batch from a replay', () => {
    const windows = new Map<string, ReplayWindow>([['a', EMPTY_WINDOW]]);
    const batch = [c('a', 1, 'x'), c('a', 1, 'x'), c('a', 1, 'y'), c('a', 2, 'z')];
    const { decisions, windows: after } = decideSeqs(windows, batch, new Map());
    expect(decisions).toEqual(['accept', 'duplicate', 'REPLAY', 'accept']);
    expect(after.get('a')?.highest).toBe(2);
  });

  it('compares against stored hashes for seqs the window has seen', () => {
    const windows = new Map([['a', acceptSeq(acceptSeq(EMPTY_WINDOW, 4), 5)]]);
    const batch = [c('a', 4, 'same'), c('a', 5, 'other'), c('a', 6, 'new')];
    expect(pairsToLookUp(windows, batch).map((p) => p.seq)).toEqual([4, 5]);
    const stored = new Map([
      ['a\u00004', h('same')],
      ['a\u00005', h('original')],
    ]);
    expect(decideSeqs(windows, batch, stored).decisions).toEqual(['duplicate', 'REPLAY', 'accept']);
  });

  it('refuses a seq below the window as STALE_SEQ unless it is an exact duplicate of a stored message', () => {
    const windows = new Map([['a', acceptSeq(EMPTY_WINDOW, WINDOW_SIZE + 10)]]);
    const batch = [c('a', 3, 'old'), c('a', 4, 'never seen')];
    const stored = new Map([['a\u00003', h('old')]]);
    expect(decideSeqs(windows, batch, stored).decisions).toEqual(['duplicate', 'STALE_SEQ']);
  });

  it('keeps devices apart', () => {
    const windows = new Map([
      ['a', EMPTY_WINDOW],
      ['b', EMPTY_WINDOW],
    ]);
    expect(decideSeqs(windows, [c('a', 1, 'x'), c('b', 1, 'y')], new Map()).decisions).toEqual([
      'accept',
      'accept',
    ]);
  });
});

describe('replay decisions with the ack floor and the jump bound', () => {
  it('refuses a seq at or below the floor that the window never accepted (below firstSeq) as STALE_SEQ', () => {
    const windows = new Map([['a', EMPTY_WINDOW]]);
    const floors = new Map([['a', 99]]);
    const batch = [c('a', 5, 'early'), c('a', 100, 'first')];
    expect(pairsToLookUp(windows, batch, floors).map((p) => p.seq)).toEqual([5]);
    expect(decideSeqs(windows, batch, new Map(), { floors }).decisions).toEqual(['STALE_SEQ', 'accept']);
  });

  it('refuses one message moving the seq further than the bound (SEQ_JUMP) and leaves the window usable', () => {
    const windows = new Map([['a', acceptSeq(EMPTY_WINDOW, 7)]]);
    const batch = [c('a', Number.MAX_SAFE_INTEGER, 'far'), c('a', 8, 'next')];
    const { decisions, windows: after } = decideSeqs(windows, batch, new Map(), { maxJump: 1000 });
    expect(decisions).toEqual(['SEQ_JUMP', 'accept']);
    expect(after.get('a')?.highest).toBe(8);
  });
});
