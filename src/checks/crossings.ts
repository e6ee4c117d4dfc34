// Which restricted (or unlicensed) zones a planned route crosses, and where along it: for the warning a shipment
// gets when it is registered (an air route over a restricted country is lawful overflight at cruise, but the
// officer should know it before departure, once — not at every fix). Pure.
import { AIR_DENSIFY_KM } from '../geo/routes.ts';
import { haversineKm, interpolateGreatCircle } from '../geo/spherical.ts';
import type { PlannedRoute, Zone, ZoneFilter, ZoneIndex } from '../geo/types.ts';
import type { ZoneFilters } from './context.ts';

export interface RouteCrossing {
  zoneId: string;
  zoneName: string;
  country: string | null;
  tier: Zone['tier'];
  /** Along the route, km: where the first and the last leg segment touching the zone lie. */
  fromKm: number;
  toKm: number;
  legIndex: number;
  legMode: string;
}

/** Every zone the route enters that `isRestricted` or `isUnlicensed` picks, in route order. */
export function restrictedCrossings(
  route: PlannedRoute,
  zones: ZoneIndex,
  filters: Pick<ZoneFilters, 'isRestricted' | 'isUnlicensed'>,
): RouteCrossing[] {
  const pick: ZoneFilter = (z) => filters.isRestricted(z) || filters.isUnlicensed(z);
  const found = new Map<string, RouteCrossing>();
  let km = 0;
  route.legs.forEach((leg, legIndex) => {
    for (let i = 1; i < leg.coordinates.length; i++) {
      const [aLon, aLat] = leg.coordinates[i - 1]!;
      const [bLon, bLat] = leg.coordinates[i]!;
      const a = { lat: aLat, lon: aLon };
      const b = { lat: bLat, lon: bLon };
      const segKm = haversineKm(a, b);
      // Long segments are split so that a crossing's position along the route stays within ~50 km.
      const parts = Math.max(1, Math.ceil(segKm / AIR_DENSIFY_KM));
      for (let k = 0; k < parts; k++) {
        const p = interpolateGreatCircle(a, b, k / parts);
        const q = interpolateGreatCircle(a, b, (k + 1) / parts);
        const startKm = km + (segKm * k) / parts;
        const endKm = km + (segKm * (k + 1)) / parts;
        for (const z of zones.zonesCrossed(p, q, pick)) {
          const seen = found.get(z.id);
          if (seen) seen.toKm = Math.round(endKm);
          else
            found.set(z.id, {
              zoneId: z.id,
              zoneName: z.name,
              country: z.country ?? null,
              tier: z.tier,
              fromKm: Math.round(startKm),
              toKm: Math.round(endKm),
              legIndex,
              legMode: leg.mode,
            });
        }
      }
      km += segKm;
    }
  });
  return [...found.values()].sort((x, y) => x.fromKm - y.fromKm);
}
