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
    const who = r.sender === 'site' ? { deviceId: null, siteId: r.senderId } : { deviceId: r.senderId };
    return {
      kind: 'rejected',
      reason: r.rejection.code,
      detail: r.rejection.message,
      ...who,
      seq: r.seq,
      authenticated: r.authenticated,
    };
  }
  const v = d.v;
  const who = v.sender === 'site' ? { deviceId: null, siteId: v.senderId } : { deviceId: v.senderId };
  const seq = v.payload.seq;
  if (d.kind === 'duplicate') return { kind: 'duplicate', ...who, seq };
  return { kind: 'accepted', ...who, seq, records: v.sender === 'device' ? v.payload.records.length : 0 };
}
