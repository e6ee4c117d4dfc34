// The geography a process checks against: the policy, the country polygons and the custom zones, indexed once and
// re-indexed when an admin adds a zone (here, or seen on the periodic reload when another process added it).
import type { Pool } from '../db/pool.ts';
import { cutAtAntimeridian, loadCountryZones } from './countries.ts';
import { loadPolicy, type Policy } from './policy.ts';
import type { ZoneIndex, ZoneInput, ZoneTier } from './types.ts';
import { buildZoneIndex } from './zone-index.ts';

export interface GeoRuntime {
  policy: Policy;
  zones(): ZoneIndex;
  /** Re-reads custom zones from the database; rebuilds the index only when they changed. */
  reloadCustomZones(db: Pool): Promise<void>;
}

export function createGeoRuntime(opts: { policyPath?: string; resolution?: '50m' | '10m' } = {}): GeoRuntime {
  const policy = loadPolicy(opts.policyPath);
  const countries = loadCountryZones(policy, opts.resolution ?? '10m');
  let index = buildZoneIndex(countries);
  let version = '';
  return {
    policy,
    zones: () => index,
    reloadCustomZones: async (db) => {
      const res = await db.query(
        'SELECT id, name, tier, country, geometry, created_at FROM zones ORDER BY id',
      );
      const next = res.rows.map((r) => `${r.id}@${(r.created_at as Date).getTime()}`).join(',');
      if (next === version) return;
      const custom: ZoneInput[] = res.rows.map((r) => ({
        zone: {
          id: r.id,
          name: r.name,
          kind: 'custom',
          tier: r.tier as ZoneTier,
          ...(r.country ? { country: r.country } : {}),
        },
        // Rings drawn across ±180 are split there, like the country rings.
        geometry: cutAtAntimeridian(r.geometry),
      }));
      index = buildZoneIndex([...countries, ...custom]);
      version = next;
    },
  };
}
