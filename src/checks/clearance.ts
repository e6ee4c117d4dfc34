// The shipment's clear box (geo/zone-clear.ts): a lon/lat box around its track that no border of a restricted or
// unlicensed zone reaches, kept in the check state; the box lies in none of them (at sea, mostly) or wholly inside
// one (deep in a restricted country). While the last trusted fix and the new one both lie in it, the zone check
// knows its answer without a lookup (the zones of the box, no border crossed), and the diversion look-ahead skips
// its steps inside a box that lies in no such zone. A box is dropped when the zones change or a zone near it became
// forbidden (a licence revoked, the shipment's own list changed), and found anew when the track leaves it.
import { haversineKm } from '../geo/spherical.ts';
import type { ClearBox, Zone, ZoneFilter } from '../geo/types.ts';
import { inClearBox } from '../geo/zone-clear.ts';
import { DENSIFY_STEP_KM } from '../geo/zone-index.ts';
import type { Fix, ShipmentContext } from './types.ts';

/**
 * Zones the position checks look for: restricted ones, and licence-required ones no licence covers. One filter per
 * pair of the context's filters, made once (the checks ask for it at every fix).
 */
export function forbiddenZones(ctx: Pick<ShipmentContext, 'isRestricted' | 'isUnlicensed'>): ZoneFilter {
  const { isRestricted, isUnlicensed } = ctx;
  const known = forbiddenByFilters.get(isRestricted);
  if (known?.isUnlicensed === isUnlicensed) return known.forbidden;
  const forbidden = (z: Zone) => isRestricted(z) || isUnlicensed(z);
  forbiddenByFilters.set(isRestricted, { isUnlicensed, forbidden });
  return forbidden;
}
const forbiddenByFilters = new WeakMap<ZoneFilter, { isUnlicensed: ZoneFilter; forbidden: ZoneFilter }>();

/** The stored box, if it still holds for this shipment's zones. */
export function validClearBox(
  c: ClearBox | null | undefined,
  ctx: ShipmentContext,
  forbidden: (z: Zone) => boolean,
): ClearBox | null {
  return c && ctx.zones.stillClear(c, forbidden) ? c : null;
}

/**
 * The restricted and unlicensed zones holding the fix when it, and the segment from the previous trusted fix, lie
 * in the box (no border met on the way): usually none. Undefined when the zones must be looked up.
 */
export function zonesInBox(
  c: ClearBox,
  prev: Fix | undefined,
  fix: Fix,
  ctx: ShipmentContext,
): Zone[] | undefined {
  if (!inClearBox(c, fix)) return undefined;
  // The index follows longer segments along the great circle, which may leave the box.
  if (prev !== undefined && !(inClearBox(c, prev) && haversineKm(prev, fix) <= DENSIFY_STEP_KM))
    return undefined;
  if (!c.inside) return NONE;
  // In several zones at once, their order is the index's at each point: looked up then.
  if (c.inside.length > 1) return undefined;
  const z = ctx.zones.zone(c.inside[0]!);
  return z ? [z] : undefined;
}
const NONE: Zone[] = [];

/**
 * A box around the fix, up to ten reports' travel at cruise each side (100–1,000 km) and no smaller than one and a
 * half: a smaller one would be left at once. Rounded inward to 1e-4° to keep the state small.
 */
export function findClearBox(
  fix: Fix,
  ctx: ShipmentContext,
  forbidden: (z: Zone) => boolean,
): ClearBox | null {
  const stepKm = (ctx.params.cruiseMaxKmh * ctx.reportIntervalS) / 3600;
  const c = ctx.zones.clearBox(fix, forbidden, Math.min(1000, Math.max(100, 10 * stepKm)), 1.5 * stepKm);
  if (!c) return null;
  const [x0, y0, x1, y1] = c.box;
  const box: ClearBox['box'] = [
    Math.ceil(x0 * 1e4) / 1e4,
    Math.ceil(y0 * 1e4) / 1e4,
    Math.floor(x1 * 1e4) / 1e4,
    Math.floor(y1 * 1e4) / 1e4,
  ];
  return { ...c, box };
}
