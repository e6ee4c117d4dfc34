// The replay decision for one batch, pure: given each device's window and the hashes of stored messages, tell
// accepted from exact duplicate (same seq, same payload hash) from replay (same seq, other payload) and stale seq.
import { acceptSeq, classifySeq, type ReplayWindow } from '../verify/replay-window.ts';

export interface SeqCandidate {
  deviceId: string;
  seq: number;
  payloadSha256: Buffer;
}

export type SeqDecision = 'accept' | 'duplicate' | 'REPLAY' | 'STALE_SEQ';

const key = (deviceId: string, seq: number) => `${deviceId}\0${seq}`;

/** Which (device, seq) pairs need their stored hash looked up before `decideSeqs` can run. */
export function pairsToLookUp(
  windows: ReadonlyMap<string, ReplayWindow>,
  candidates: SeqCandidate[],
): SeqCandidate[] {
  return candidates.filter((c) => {
    const w = windows.get(c.deviceId);
    return w !== undefined && classifySeq(w, c.seq) !== 'new';
  });
}

/** Decides every candidate in arrival order; returns the decisions and the windows after the batch. */
export function decideSeqs(
  windows: ReadonlyMap<string, ReplayWindow>,
  candidates: SeqCandidate[],
  storedHashes: ReadonlyMap<string, Buffer>,
): { decisions: SeqDecision[]; windows: Map<string, ReplayWindow> } {
  const next = new Map(windows);
  const inBatch = new Map<string, Buffer>();
  const decisions = candidates.map((c): SeqDecision => {
    const w = next.get(c.deviceId);
    if (!w) throw new Error(`no replay window loaded for device ${c.deviceId}`);
    const status = classifySeq(w, c.seq);
    const k = key(c.deviceId, c.seq);
    if (status === 'new') {
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
