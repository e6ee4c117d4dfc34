// Revoking a data center, as devices are revoked (db/devices.ts): the site and every key it has, idempotently. Later
// attestations are refused KEY_REVOKED; the broker ends its MQTT access (its credential follows its owner).
// (Its own file: db/sites.ts is at the size limit.)
import type { Pool } from './pool.ts';

/** Revokes the site and its keys; the first revocation time, author and reason stay. False: no such site. */
export async function revokeSite(db: Pool, id: string, by: string, reason: string | null): Promise<boolean> {
  const res = await db.query(
    `WITH s AS (
       UPDATE sites SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2),
                        revoke_reason = coalesce(revoke_reason, $3)
        WHERE id = $1 RETURNING id, revoked_at
     )
     UPDATE site_keys k SET revoked_at = coalesce(k.revoked_at, s.revoked_at) FROM s WHERE k.site_id = s.id
     RETURNING k.kid`,
    [id, by, reason],
  );
  if ((res.rowCount ?? 0) > 0) return true;
  return (await db.query('SELECT 1 FROM sites WHERE id = $1', [id])).rowCount === 1;
}
