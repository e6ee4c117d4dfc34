// The geography a process checks against: the policy, the country polygons and the custom zones, indexed once and
// re-indexed when the custom zones change. Pure: the caller reads the zone rows (db/zones.ts listCustomZones) and
// passes them in — at start, after an admin adds a zone, and on the periodic reload that sees other processes' zones.
import { cutAtAntimeridian, loadCountryZones } from './countries.ts';
import { loadPolicy, type Policy } from './policy.ts';
import type { CustomZoneRow, ZoneIndex, ZoneInput } from './types.ts';
import { buildZoneIndex } from './zone-index.ts';

export interface GeoRuntime {
  policy: Policy;
  zones(): ZoneIndex;
  /** Takes every custom zone as stored; rebuilds the index only when they changed. True when it rebuilt. */
  setCustomZones(rows: readonly CustomZoneRow[]): boolean;
}

export function createGeoRuntime(opts: { policyPath?: string; resolution?: '50m' | '10m' } = {}): GeoRuntime {
  const policy = loadPolicy(opts.policyPath);
  const countries = loadCountryZones(policy, opts.resolution ?? '10m');
  let index = buildZoneIndex(countries);
  let version = '';
  return {
    policy,
    zones: () => index,
    setCustomZones: (rows) => {
      // The ids with their creation times change whenever a zone is added, removed or re-created.
      const next = rows.map((r) => `${r.id}@${r.createdAt.getTime()}`).join(',');
      if (next === version) return false;
      const custom: ZoneInput[] = rows.map((r) => ({
        zone: {
          id: r.id,
          name: r.name,
          kind: 'custom',
          tier: r.tier,
          ...(r.country ? { country: r.country } : {}),
        },
        // Rings drawn across ±180 are split there, like the country rings.
        geometry: cutAtAntimeridian(r.geometry),
      }));
      index = buildZoneIndex([...countries, ...custom]);
      version = next;
      return true;
    },
  };
}
