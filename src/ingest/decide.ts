// The replay decision for one batch, pure: given each sender's window, its ack floor and the hashes of stored
// messages, tell accepted from exact duplicate (same seq, same payload hash) from replay (same seq, other payload),
// stale seq (below the window, or at or below the floor and never accepted: below the registration's firstSeq, or
// finally refused) and a jump too far ahead (one signed seq near 2^53 would otherwise end the window for good).
import { acceptSeq, classifySeq, type ReplayWindow } from '../verify/replay-window.ts';

export interface SeqCandidate {
  deviceId: string;
  seq: number;
  payloadSha256: Buffer;
}

export type SeqDecision = 'accept' | 'duplicate' | 'REPLAY' | 'STALE_SEQ' | 'SEQ_JUMP';

export interface DecideOptions {
  /** Per sender: the highest seq with no gap below it; a seq at or below it is never new. */
  floors?: ReadonlyMap<string, number>;
  /** How far above max(highest, floor) one message may move a sender's seq. */
  maxJump?: number;
}

/** Whether the seq can still be accepted as new (the window says new, and it lies above the sender's floor). */
function isNew(w: ReplayWindow, floor: number | undefined, seq: number): boolean {
  return classifySeq(w, seq) === 'new' && (floor === undefined || seq > floor);
}

const key = (deviceId: string, seq: number) => `${deviceId}\0${seq}`;

/** Which (device, seq) pairs need their stored hash looked up before `decideSeqs` can run. */
export function pairsToLookUp(
  windows: ReadonlyMap<string, ReplayWindow>,
  candidates: SeqCandidate[],
  floors?: ReadonlyMap<string, number>,
): SeqCandidate[] {
  return candidates.filter((c) => {
    const w = windows.get(c.deviceId);
    return w !== undefined && !isNew(w, floors?.get(c.deviceId), c.seq);
  });
}

/** Decides every candidate in arrival order; returns the decisions and the windows after the batch. */
export function decideSeqs(
  windows: ReadonlyMap<string, ReplayWindow>,
  candidates: SeqCandidate[],
  storedHashes: ReadonlyMap<string, Buffer>,
  opts: DecideOptions = {},
): { decisions: SeqDecision[]; windows: Map<string, ReplayWindow> } {
  const next = new Map(windows);
  const inBatch = new Map<string, Buffer>();
  const decisions = candidates.map((c): SeqDecision => {
    const w = next.get(c.deviceId);
    if (!w) throw new Error(`no replay window loaded for device ${c.deviceId}`);
    const status = classifySeq(w, c.seq);
    const floor = opts.floors?.get(c.deviceId);
    const k = key(c.deviceId, c.seq);
    if (isNew(w, floor, c.seq)) {
      const reference = Math.max(w.highest, floor ?? -1);
      if (opts.maxJump !== undefined && c.seq - reference > opts.maxJump) return 'SEQ_JUMP';
      next.set(c.deviceId, acceptSeq(w, c.seq));
      inBatch.set(k, c.payloadSha256);
      return 'accept';
    }
    const stored = inBatch.get(k) ?? storedHashes.get(k);
    if (stored?.equals(c.payloadSha256)) return 'duplicate';
    return status === 'seen' ? 'REPLAY' : 'STALE_SEQ';
  });
  return { decisions, windows: next };
}
