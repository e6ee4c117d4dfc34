// RTT landmarks: the registry of the points sites measure their round-trip times to.
import type { LandmarkInfo } from '../checks/attestation.ts';
import type { PublicJwk } from '../verify/keys.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface NewLandmark {
  id: string;
  name: string | null;
  lat: number;
  lon: number;
  jwk: PublicJwk | null;
}

/** False when the id is taken. */
export async function insertLandmark(db: Pool, l: NewLandmark, by: string): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO landmarks (id, name, lat, lon, public_jwk, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING`,
    [l.id, l.name, l.lat, l.lon, l.jwk ? JSON.stringify(l.jwk) : null, by],
  );
  return res.rowCount === 1;
}

export async function listLandmarks(
  db: Queryable,
): Promise<(LandmarkInfo & { name: string | null; createdAt: string })[]> {
  const res = await db.query('SELECT id, name, lat, lon, created_at FROM landmarks ORDER BY id');
  return res.rows.map((r) => ({
    id: r.id,
    name: r.name,
    lat: r.lat,
    lon: r.lon,
    createdAt: (r.created_at as Date).toISOString(),
  }));
}

export async function landmarksById(db: Queryable, ids: string[]): Promise<Map<string, LandmarkInfo>> {
  const res = await db.query('SELECT id, lat, lon FROM landmarks WHERE id = ANY($1::text[])', [
    [...new Set(ids)],
  ]);
  return new Map(res.rows.map((r) => [r.id as string, { id: r.id, lat: r.lat, lon: r.lon }]));
}
