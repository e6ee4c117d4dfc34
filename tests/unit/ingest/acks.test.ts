// What an ack may claim (wire protocol v1, "Acks are signed"): the highest seq with no gap below it, and the seqs
// above it that are done — never a seq chipwatch has not committed or refused for good.
import { describe, expect, it } from 'vitest';
import { Rejection } from '../../../src/domain/errors.ts';
import { ackOf, advanceFloor, finallyRefused, MAX_SACK, mergeAcks } from '../../../src/ingest/stages/acks.ts';
import type { Decided } from '../../../src/ingest/stages/verdicts.ts';
import {
  acceptSeq,
  EMPTY_WINDOW,
  type ReplayWindow,
  WINDOW_SIZE,
} from '../../../src/verify/replay-window.ts';

const accepted = (seqs: number[], from: ReplayWindow = EMPTY_WINDOW) => seqs.reduce(acceptSeq, from);
const ack = (floor: number, w: ReplayWindow, refused?: Set<number>) => {
  const f = advanceFloor(floor, w, refused);
  return ackOf(f, w, refused);
};

function refusal(seq: number, authenticated: boolean, senderId = 'a'): Decided {
  return {
    kind: 'refused',
    r: {
      kind: 'refused',
      sender: 'device',
      msg: { topic: `chipwatch/v1/devices/${senderId}/telemetry`, payload: Buffer.from('x'), receivedAt: 0 },
      rejection: new Rejection('SCHEMA_INVALID', 'records: too small'),
      senderId,
      kid: 'k',
      seq,
      authenticated,
    },
  };
}

describe('contiguous acks', () => {
  it('with seqs 10, 8, 9, 5 arriving and 6, 7 lost, claims 5 and sacks 8–10; never 6 or 7', () => {
    const w = accepted([1, 2, 3, 4, 10, 8, 9, 5]);
    const a = ack(4, w);
    expect(a).toEqual({ seq: 5, sack: [8, 9, 10] });
    expect(a.seq < 6 && !a.sack.includes(6) && !a.sack.includes(7)).toBe(true);
  });

  it('reaches 10 once the lost 6 and 7 are resent and stored', () => {
    const w = accepted([6, 7], accepted([1, 2, 3, 4, 10, 8, 9, 5]));
    expect(ack(5, w)).toEqual({ seq: 10, sack: [] });
  });

  it("starts below the registration's first seq: nothing is claimed before the first message", () => {
    expect(ack(0, EMPTY_WINDOW)).toEqual({ seq: 0, sack: [] });
    // A tracker registered with firstSeq 100 whose 101 arrived first: 100 is still open.
    expect(ack(99, accepted([101]))).toEqual({ seq: 99, sack: [101] });
  });

  it('moves over a seq refused for good (a signed payload that will never be valid), not over a forged one', () => {
    const w = accepted([1, 2, 3, 5]);
    const decided = [refusal(4, true), refusal(6, false), refusal(7, true, 'b')];
    const refused = finallyRefused(decided, 'device');
    expect(refused.get('a')).toEqual(new Set([4]));
    expect(ack(3, w, refused.get('a'))).toEqual({ seq: 5, sack: [] });
    // Without the authenticated refusal the gap at 4 stays open.
    expect(ack(3, w)).toEqual({ seq: 3, sack: [5] });
  });

  it('treats a gap that fell below the replay window as final: such a seq can only be refused now', () => {
    const w = accepted([WINDOW_SIZE + 10, WINDOW_SIZE + 11]);
    const a = ack(0, w);
    // highest is WINDOW_SIZE + 11: seqs up to 11 lie below the window, 12 … WINDOW_SIZE + 9 may still arrive.
    expect(a.seq).toBe(11);
    expect(a.sack).toEqual([WINDOW_SIZE + 10, WINDOW_SIZE + 11]);
  });

  it(`lists at most ${MAX_SACK} seqs above the floor, lowest first`, () => {
    const seqs = Array.from({ length: 600 }, (_, i) => 3 + i);
    const a = ack(0, accepted(seqs));
    expect(a.seq).toBe(0);
    expect(a.sack).toHaveLength(MAX_SACK);
    expect(a.sack[0]).toBe(3);
  });

  it('merges the acks of one-by-one commits into the higher floor and what either lists above it', () => {
    expect(mergeAcks({ seq: 3, sack: [5, 9] }, { seq: 5, sack: [7] })).toEqual({ seq: 5, sack: [7, 9] });
    expect(mergeAcks(undefined, { seq: 2, sack: [] })).toEqual({ seq: 2, sack: [] });
  });
});
