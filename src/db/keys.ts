// Signing keys of trackers and sites, read the same way for both: by kid for screening, with revocation times
// inside the batch's transaction.
import type { SenderKind } from '../domain/messages.ts';
import type { KeyRecord } from '../verify/screen.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

/** The key table of each sender kind and the table of its owners (same columns, other names). */
const TABLES = {
  device: { keys: 'device_keys', owner: 'device_id', owners: 'devices' },
  site: { keys: 'site_keys', owner: 'site_id', owners: 'sites' },
} as const;

export async function findKeys(db: Queryable, sender: SenderKind, kids: string[]): Promise<KeyRecord[]> {
  const t = TABLES[sender];
  const res = await db.query(
    `SELECT kid, ${t.owner} AS owner_id, alg, public_jwk FROM ${t.keys} WHERE kid = ANY($1::text[])`,
    [kids],
  );
  return res.rows.map((r) => ({ kid: r.kid, ownerId: r.owner_id, alg: r.alg, jwk: r.public_jwk }));
}

/** When each key stopped being valid (its own revocation or its owner's); null while valid. */
export async function keyRevocations(
  c: PoolClient,
  sender: SenderKind,
  kids: string[],
): Promise<Map<string, number | null>> {
  const t = TABLES[sender];
  if (kids.length === 0) return new Map();
  const res = await c.query(
    `SELECT k.kid, least(k.revoked_at, o.revoked_at) AS revoked_at
       FROM ${t.keys} k JOIN ${t.owners} o ON o.id = k.${t.owner} WHERE k.kid = ANY($1::text[])`,
    [[...new Set(kids)]],
  );
  return new Map(
    res.rows.map((r) => [r.kid as string, r.revoked_at ? (r.revoked_at as Date).getTime() : null]),
  );
}
