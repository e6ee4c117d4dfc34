// What became of each message of a batch, and what that lets chipwatch acknowledge: pure.
import type { RejectionCode } from '../../domain/errors.ts';
import type { Refused, Verified } from '../../verify/screen.ts';

/** A message after the replay window: stored, a harmless resend, or refused with its reason. */
export type Decided =
  | { kind: 'accepted'; v: Verified }
  | { kind: 'duplicate'; v: Verified }
  | { kind: 'refused'; r: Refused };

export type Verdict =
  | { kind: 'accepted'; deviceId: string | null; siteId?: string; seq: number; records: number }
  | { kind: 'duplicate'; deviceId: string | null; siteId?: string; seq: number }
  | {
      kind: 'rejected';
      reason: RejectionCode;
      detail: string;
      deviceId: string | null;
      siteId?: string | null;
      seq: number | null;
      /** The signature verified with a valid key: the seq is the device's own, so it may be acknowledged. */
      authenticated: boolean;
    };

/** The verdict the ingest reports (logs, metrics, acks) for a decided message. */
export function verdictOf(d: Decided): Verdict {
  if (d.kind === 'refused') {
    const r = d.r;
    const common = {
      reason: r.rejection.code,
      detail: r.rejection.message,
      seq: r.seq,
      authenticated: r.authenticated,
    };
    return r.sender === 'site'
      ? { kind: 'rejected', ...common, deviceId: null, siteId: r.senderId }
      : { kind: 'rejected', ...common, deviceId: r.senderId };
  }
  const v = d.v;
  const seq = v.payload.seq;
  if (v.sender === 'site') {
    return d.kind === 'duplicate'
      ? { kind: 'duplicate', deviceId: null, siteId: v.senderId, seq }
      : { kind: 'accepted', deviceId: null, siteId: v.senderId, seq, records: 0 };
  }
  return d.kind === 'duplicate'
    ? { kind: 'duplicate', deviceId: v.senderId, seq }
    : { kind: 'accepted', deviceId: v.senderId, seq, records: v.payload.records.length };
}
