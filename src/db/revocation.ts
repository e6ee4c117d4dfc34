// Revoking a tracker or a data center: the sender and every key it has, idempotently. Later messages are refused
// KEY_REVOKED; the broker ends its MQTT access (its credential follows its owner).
import type { SenderKind } from '../domain/messages.ts';
import type { Pool } from './pool.ts';
import { SENDER_TABLES } from './senders.ts';

/** Revokes the sender and its keys; the first revocation time, author and reason stay. False: no such sender. */
export async function revokeSender(
  db: Pool,
  sender: SenderKind,
  id: string,
  by: string,
  reason: string | null,
): Promise<boolean> {
  const t = SENDER_TABLES[sender];
  const res = await db.query(
    `WITH o AS (
       UPDATE ${t.owners} SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2),
                              revoke_reason = coalesce(revoke_reason, $3)
        WHERE id = $1 RETURNING id, revoked_at
     )
     UPDATE ${t.keys} k SET revoked_at = coalesce(k.revoked_at, o.revoked_at) FROM o WHERE k.${t.id} = o.id
     RETURNING k.kid`,
    [id, by, reason],
  );
  if ((res.rowCount ?? 0) > 0) return true;
  return (await db.query(`SELECT 1 FROM ${t.owners} WHERE id = $1`, [id])).rowCount === 1;
}
