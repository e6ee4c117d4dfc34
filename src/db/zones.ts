// Custom zones: the admin's insert, and the rows the geo runtime indexes (it reads none itself).
import type { CustomZoneRow, ZoneTier } from '../geo/types.ts';
import type { Pool } from './pool.ts';

export interface NewZone {
  id: string;
  name: string;
  tier: ZoneTier;
  country: string | null;
  geometry: CustomZoneRow['geometry'];
}

/** Inserts a zone; its creation time, or undefined when a zone with this id exists. */
export async function insertZone(db: Pool, z: NewZone, by: string): Promise<Date | undefined> {
  const res = await db.query(
    `INSERT INTO zones (id, name, tier, country, geometry, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING RETURNING created_at`,
    [z.id, z.name, z.tier, z.country, z.geometry, by],
  );
  return res.rows[0]?.created_at as Date | undefined;
}

/** Every custom zone in id order, for GeoRuntime.setCustomZones. */
export async function listCustomZones(db: Pool): Promise<CustomZoneRow[]> {
  const res = await db.query('SELECT id, name, tier, country, geometry, created_at FROM zones ORDER BY id');
  return res.rows.map((r) => ({
    id: r.id as string,
    name: r.name as string,
    tier: r.tier as ZoneTier,
    country: r.country as string | null,
    geometry: r.geometry as CustomZoneRow['geometry'],
    createdAt: r.created_at as Date,
  }));
}
