// A shipment's stored corridor polygon (migration 0013): written once it is built, read by GET …/track.
import type { MultiPolygon, Polygon } from 'geojson';
import type { Pool, PoolClient } from './pool.ts';

/** The stored corridor, when it was built for the shipment's corridor width as it is now; else undefined. */
export async function getStoredCorridor(
  db: Pool | PoolClient,
  shipmentId: string,
  corridorKm: number,
): Promise<Polygon | MultiPolygon | undefined> {
  const res = await db.query<{ geometry: Polygon | MultiPolygon }>(
    `SELECT corridor->'geometry' AS geometry FROM shipments
      WHERE id = $1 AND corridor_km = $2 AND (corridor->>'corridorKm')::float8 = $2`,
    [shipmentId, corridorKm],
  );
  return res.rows[0]?.geometry ?? undefined;
}

/**
 * Stores the corridor built for `corridorKm`, unless the shipment's width changed meanwhile (a corridor built for
 * the old width must not replace the new one). True when stored.
 */
export async function storeCorridor(
  db: Pool | PoolClient,
  shipmentId: string,
  corridorKm: number,
  geometry: Polygon | MultiPolygon,
): Promise<boolean> {
  const res = await db.query(
    `UPDATE shipments SET corridor = jsonb_build_object('corridorKm', $2::float8, 'geometry', $3::jsonb)
      WHERE id = $1 AND corridor_km = $2`,
    [shipmentId, corridorKm, JSON.stringify(geometry)],
  );
  return res.rowCount === 1;
}
