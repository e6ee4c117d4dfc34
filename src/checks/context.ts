// A shipment's check context: its route index (cached: routes never change), its thresholds, and which zones it
// must avoid under the policy, its own restricted list and its licences (the countries its cited licence records
// cover at check time, and its free-text licences).

import type { Policy } from '../geo/policy.ts';
import { indexRoute } from '../geo/route-index.ts';
import type { RouteIndex, Zone, ZoneFilter, ZoneIndex } from '../geo/types.ts';
import { defaultParams } from './params.ts';
import type { ShipmentRecord } from './shipment.ts';
import type { CheckParams, ShipmentContext } from './types.ts';

export interface ZoneFilters {
  isRestricted: ZoneFilter;
  isUnlicensed: ZoneFilter;
  isWatch: ZoneFilter;
}

/**
 * A shipment's own `restrictedCountries` replaces the policy's restricted tier; a policy-restricted country it
 * leaves out is downgraded to licence-required, not allowed. Licences lift licence-required countries.
 */
export function zoneFilters(
  policy: Policy,
  restrictedCountries: string[] | null,
  licensedCountries: string[],
): ZoneFilters {
  const restricted = new Set(restrictedCountries ?? policy.restricted);
  const licensed = new Set(licensedCountries);
  const needsLicence = (c: string | undefined) =>
    c !== undefined &&
    !licensed.has(c) &&
    (policy.licenseRequired.has(c) || (policy.restricted.has(c) && !restricted.has(c)));
  return {
    isRestricted: (z: Zone) =>
      z.kind === 'custom' ? z.tier === 'restricted' : z.country !== undefined && restricted.has(z.country),
    isUnlicensed: (z: Zone) =>
      z.kind === 'custom'
        ? z.tier === 'licenseRequired' && !(z.country && licensed.has(z.country))
        : needsLicence(z.country),
    isWatch: (z: Zone) =>
      z.kind === 'custom' ? z.tier === 'watch' : z.country !== undefined && policy.watch.has(z.country),
  };
}

const routeCache = new Map<string, RouteIndex>();

export function shipmentContext(
  s: ShipmentRecord,
  policy: Policy,
  zones: ZoneIndex,
  globalParams: Partial<CheckParams> = {},
): ShipmentContext {
  let route = routeCache.get(s.id);
  if (!route) {
    route = indexRoute(s.route);
    if (routeCache.size > 10_000) routeCache.clear();
    routeCache.set(s.id, route);
  }
  return {
    shipmentId: s.id,
    mode: s.mode,
    origin: s.origin,
    destination: s.destination,
    plannedStops: s.plannedStops,
    corridorKm: s.corridorKm,
    reportIntervalS: s.reportIntervalS,
    route,
    zones,
    // Licence records cover what they list while live (read at check time); free-text licences as given.
    ...zoneFilters(policy, s.restrictedCountries, [
      ...(s.licensedCountries ?? []),
      ...s.licenses.map((l) => l.country),
    ]),
    params: defaultParams(s.mode, { ...globalParams, ...s.params }),
  };
}
