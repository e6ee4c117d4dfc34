// What a refused message costs to keep. A signed message refused for good is evidence: kept whole (up to
// REJECTION_RAW_CAP_BYTES). Anything unauthenticated is kept as a row with its reason (every refusal is stored and
// counted) but with a small raw sample, and only the first few per source and minute carry one, so a flood of
// junk costs rows, not megabytes.
import type { Refused } from '../../verify/screen.ts';

export interface JunkLimits {
  /** Raw bytes kept of an authenticated refusal. */
  rawCapBytes: number;
  /** Raw bytes kept of an unauthenticated one. */
  unauthenticatedRawCapBytes: number;
  /** Unauthenticated refusals per source and minute that keep a raw sample. */
  samplesPerSourcePerMin: number;
}

/** Most sources remembered at once; beyond it the oldest minute's counts are forgotten. */
const MAX_SOURCES = 10_000;

export class RawSampler {
  private minute = -1;
  private counts = new Map<string, number>();

  constructor(private readonly limits: JunkLimits) {}

  /** How many raw bytes of `r` to keep, refused at `nowMs`. */
  capFor(r: Refused, nowMs: number): number {
    if (r.authenticated) return this.limits.rawCapBytes;
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.minute || this.counts.size >= MAX_SOURCES) {
      this.minute = minute;
      this.counts = new Map();
    }
    const source = `${r.sender}:${r.senderId ?? r.msg.topic.slice(0, 128)}`;
    const n = (this.counts.get(source) ?? 0) + 1;
    this.counts.set(source, n);
    return n <= this.limits.samplesPerSourcePerMin
      ? Math.min(this.limits.rawCapBytes, this.limits.unauthenticatedRawCapBytes)
      : 0;
  }
}
