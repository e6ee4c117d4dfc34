// Edges of the ack decisions (src/ingest/stages/acks.ts) the scenario tests leave open: refusals of the other kind
// or without a sender or seq are not final for anyone, accepted verdicts are not refusals, the floor jumps to the
// window's lower edge, and a sack lists only seqs above the floor, ascending, once.
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../../src/domain/errors.ts';
import { ackOf, advanceFloor, finallyRefused, markRefused } from '../../../src/ingest/stages/acks.ts';
import type { Decided } from '../../../src/ingest/stages/verdicts.ts';
import {
  acceptSeq,
  EMPTY_WINDOW,
  type ReplayWindow,
  WINDOW_SIZE,
} from '../../../src/verify/replay-window.ts';

const accepted = (seqs: number[], from: ReplayWindow = EMPTY_WINDOW) => seqs.reduce(acceptSeq, from);
function refusal(o: {
  seq: number | null;
  senderId?: string | null;
  sender?: 'device' | 'site';
  authenticated?: boolean;
}): Decided {
  return {
    kind: 'refused',
    r: {
      kind: 'refused',
      sender: o.sender ?? 'device',
      msg: { topic: 't', payload: Buffer.from('x'), receivedAt: 0 },
      rejection: new Rejection('SCHEMA_INVALID', 'x'),
      senderId: o.senderId === undefined ? 'a' : o.senderId,
      kid: 'k',
      seq: o.seq,
      authenticated: o.authenticated ?? true,
    },
  } as Decided;
}

describe('finallyRefused', () => {
  it('collects authenticated refusals of the asked kind per sender, and nothing else', () => {
    const decided: Decided[] = [
      refusal({ seq: 4 }),
      refusal({ seq: 9 }),
      refusal({ seq: 5, sender: 'site' }),
      refusal({ seq: 6, authenticated: false }),
      refusal({ seq: null }),
      refusal({ seq: 7, senderId: null }),
      refusal({ seq: 2, senderId: 'b' }),
      { kind: 'accepted', v: {} } as unknown as Decided,
    ];
    expect(finallyRefused(decided, 'device')).toEqual(
      new Map([
        ['a', new Set([4, 9])],
        ['b', new Set([2])],
      ]),
    );
    expect(finallyRefused(decided, 'site')).toEqual(new Map([['a', new Set([5])]]));
  });
});

describe('advanceFloor and ackOf', () => {
  it('lifts a floor that fell below the window to its lower edge, and no further past a gap', () => {
    const w = accepted([WINDOW_SIZE + 10]);
    expect(advanceFloor(0, w)).toBe(10);
    expect(ackOf(10, w)).toEqual({ seq: 10, sack: [WINDOW_SIZE + 10] });
  });

  it('lists in the sack only refused seqs above the floor, each once, ascending', () => {
    const w = accepted([1, 2, 3, 7]);
    expect(ackOf(3, w, new Set([9, 2, 3, 5, 7]))).toEqual({ seq: 3, sack: [5, 7, 9] });
  });

  it('scans only the window above the floor: seqs of the window at or below the floor are not listed', () => {
    const w = accepted([1, 2, 3, 4, 6]);
    expect(ackOf(4, w)).toEqual({ seq: 4, sack: [6] });
    expect(ackOf(6, w)).toEqual({ seq: 6, sack: [] });
  });
});

describe('markRefused', () => {
  it('marks refused seqs above the floor as used, lowest first; not those at or below it, nor a SEQ_JUMP', () => {
    const w = accepted([1, 2]);
    const out = markRefused(w, 2, new Set([5, 2, 1, 3, 1000]), 100);
    expect(advanceFloor(2, out)).toBe(3);
    expect(ackOf(3, out)).toEqual({ seq: 3, sack: [5] });
    expect(out.highest).toBe(5);
    expect(markRefused(w, 2, undefined, 100)).toBe(w);
  });
});
