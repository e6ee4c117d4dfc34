// Advisory locks that serialise the attestations of one serial across workers (256 buckets, taken in order, so no
// deadlock): the light-speed check of the second attestation then sees the first one's sighting.
import type { PoolClient } from './pool.ts';

/** Advisory lock class of the per-serial-bucket sighting locks (any constant no other lock in chipwatch uses). */
const SIGHTING_LOCK_CLASS = 720_451;

export async function lockSerialBuckets(c: PoolClient, serials: string[]): Promise<void> {
  if (serials.length === 0) return;
  await c.query(
    `SELECT pg_advisory_xact_lock(${SIGHTING_LOCK_CLASS}, b)
       FROM (SELECT DISTINCT abs(hashtext(s)) % 256 AS b FROM unnest($1::text[]) AS s ORDER BY 1) AS buckets`,
    [serials],
  );
}
