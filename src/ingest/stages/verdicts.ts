// What became of each message of a batch, and what that lets chipwatch acknowledge: pure.
import type { RejectionCode } from '../../domain/errors.ts';
import type { SenderKind } from '../../domain/messages.ts';
import type { ReplayWindow } from '../../verify/replay-window.ts';
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

/**
 * What to acknowledge per sender of one kind: its highest committed seq, for every sender that sent an authenticated
 * message in the batch (accepted, duplicate, or finally refused). An ack N tells the tracker that everything up to N
 * is done, so a refused seq above the highest (a schema error in seq 100 while 17..99 may still be on their way) is
 * acknowledged only once a later message is committed. Unauthenticated refusals are never acknowledged: anyone may
 * publish on a sender's topic, and an ack makes the real tracker delete its buffer.
 */
export function acksFor(
  verdicts: Verdict[],
  windows: ReadonlyMap<string, ReplayWindow>,
  sender: SenderKind = 'device',
): Map<string, number> {
  const acks = new Map<string, number>();
  for (const v of verdicts) {
    const id = sender === 'device' ? v.deviceId : (v.siteId ?? null);
    if (id === null) continue;
    if (v.kind === 'rejected' && !v.authenticated) continue;
    const w = windows.get(id);
    if (w && w.highest >= 0) acks.set(id, w.highest);
  }
  return acks;
}
