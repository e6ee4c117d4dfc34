// Anti-replay window per device, after IPsec (RFC 4303 §3.4.3): the highest seq seen plus a bitmap of the
// WINDOW_SIZE seqs below it. O(1) storage per device; exact duplicates are told from replays by payload hash.

export const WINDOW_SIZE = 1024;
const MASK = (1n << BigInt(WINDOW_SIZE)) - 1n;

export interface ReplayWindow {
  /** Highest seq accepted so far, -1 before the first. */
  readonly highest: number;
  /** Bit i set ⇔ seq (highest - i) was accepted; bit 0 is `highest` itself. */
  readonly bitmap: bigint;
}

export const EMPTY_WINDOW: ReplayWindow = { highest: -1, bitmap: 0n };

/** `new`: never seen. `seen`: accepted before (a duplicate or a replay). `below`: older than the window. */
export type SeqStatus = 'new' | 'seen' | 'below';

export function classifySeq(w: ReplayWindow, seq: number): SeqStatus {
  if (seq > w.highest) return 'new';
  const offset = w.highest - seq;
  if (offset >= WINDOW_SIZE) return 'below';
  return (w.bitmap >> BigInt(offset)) & 1n ? 'seen' : 'new';
}

/** Marks `seq` accepted. Callers classify first; marking a seq below the window is a no-op. */
export function acceptSeq(w: ReplayWindow, seq: number): ReplayWindow {
  if (seq > w.highest) {
    const shift = w.highest < 0 ? WINDOW_SIZE : seq - w.highest;
    const shifted = shift >= WINDOW_SIZE ? 0n : (w.bitmap << BigInt(shift)) & MASK;
    return { highest: seq, bitmap: shifted | 1n };
  }
  const offset = w.highest - seq;
  if (offset >= WINDOW_SIZE) return w;
  return { highest: w.highest, bitmap: w.bitmap | (1n << BigInt(offset)) };
}

export function windowToHex(w: ReplayWindow): string {
  return w.bitmap.toString(16);
}

export function windowFromDb(highest: string | number | null, bitmapHex: string | null): ReplayWindow {
  if (highest === null || highest === undefined) return EMPTY_WINDOW;
  return { highest: Number(highest), bitmap: bitmapHex ? BigInt(`0x${bitmapHex}`) : 0n };
}
