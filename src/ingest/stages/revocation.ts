// Revocation: a message signed with a key revoked before the message arrived is refused (KEY_REVOKED). The times are
// read inside the batch's transaction, so a revocation committed by the API is seen by the next batch.
import { Rejection } from '../../domain/errors.ts';
import type { SenderKind } from '../../domain/messages.ts';
import { refuse, type Screened } from '../../verify/screen.ts';

/** Pure: each verified message whose key was revoked at or before its arrival becomes a refusal. */
export function applyRevocations(
  screened: Screened[],
  revokedAt: Record<SenderKind, ReadonlyMap<string, number | null>>,
): Screened[] {
  return screened.map((s) => {
    if (s.kind !== 'verified') return s;
    const revoked = revokedAt[s.sender].get(s.kid);
    if (revoked === undefined || revoked === null || revoked > s.msg.receivedAt) return s;
    return refuse(
      s,
      new Rejection('KEY_REVOKED', `key "${s.kid}" was revoked at ${new Date(revoked).toISOString()}`),
      { senderId: s.senderId, kid: s.kid, seq: s.payload.seq },
    );
  });
}

/** The kids of the verified messages of one kind: what to read revocation times for. */
export function kidsOf(screened: Screened[], sender: SenderKind): string[] {
  const kids: string[] = [];
  for (const s of screened) if (s.kind === 'verified' && s.sender === sender) kids.push(s.kid);
  return kids;
}
