// Signing keys of trackers and sites, read the same way for both: by kid for screening, with revocation times
// inside the batch's transaction.
import type { SenderKind } from '../domain/messages.ts';
import type { KeyRecord } from '../verify/screen.ts';
import type { Pool, PoolClient } from './pool.ts';
import { SENDER_TABLES } from './senders.ts';

type Queryable = Pool | PoolClient;

export async function findKeys(db: Queryable, sender: SenderKind, kids: string[]): Promise<KeyRecord[]> {
  const t = SENDER_TABLES[sender];
  const res = await db.query(
    `SELECT kid, ${t.id} AS owner_id, alg, public_jwk FROM ${t.keys} WHERE kid = ANY($1::text[])`,
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
  const t = SENDER_TABLES[sender];
  if (kids.length === 0) return new Map();
  const res = await c.query(
    `SELECT k.kid, least(k.revoked_at, o.revoked_at) AS revoked_at
       FROM ${t.keys} k JOIN ${t.owners} o ON o.id = k.${t.id} WHERE k.kid = ANY($1::text[])`,
    [[...new Set(kids)]],
  );
  return new Map(
    res.rows.map((r) => [r.kid as string, r.revoked_at ? (r.revoked_at as Date).getTime() : null]),
  );
}
