// RESTRICTED_ZONE_ENTERED: a fix inside a restricted zone, or the segment from the previous fix crossing one
// (a tracker reporting every 30 minutes can cross a border between two fixes). Licence-required zones without a
// licence alert when entered off the planned corridor: passing on the licensed lane (the Suez Canal lies inside
// Egypt's polygon) is transit, not an export. Late fixes are checked too: a fix inside a restricted country is
// evidence whenever it arrives.
import type { AlertEvent } from '../domain/alerts.ts';
import type { LatLon, Zone } from '../geo/types.ts';
import { round } from './format.ts';
import type { Fix, ShipmentContext } from './types.ts';

function zoneDetails(z: Zone) {
  return { zoneId: z.id, zoneName: z.name, tier: z.tier, kind: z.kind, country: z.country ?? null };
}

/** `prev` is the previous fix in device time (undefined for the first or for a late fix). */
export function checkZones(
  prev: LatLon | undefined,
  fix: Fix,
  ctx: ShipmentContext,
  crossTrackKm: number,
): AlertEvent[] {
  const offCorridor = crossTrackKm > ctx.corridorKm;
  const forbidden = (z: Zone) => ctx.isRestricted(z) || (offCorridor && ctx.isUnlicensed(z));
  const inside = ctx.zones.zonesAt(fix).filter(forbidden);
  const at = { ts: new Date(fix.ts).toISOString(), lat: fix.lat, lon: fix.lon };
  if (inside.length > 0) {
    return inside.map((z) => ({
      type: 'RESTRICTED_ZONE_ENTERED',
      action: 'raise',
      at: fix.ts,
      details: { ...zoneDetails(z), via: 'fix', fix: at, crossTrackKm: round(crossTrackKm) },
    }));
  }
  if (!prev) return [];
  let crossed = ctx.zones.zonesCrossed(prev, fix, forbidden);
  if (crossed.length > 0) {
    // Leaving a zone the previous fix was already in (on its licensed lane) is not an entry.
    const before = new Set(ctx.zones.zonesAt(prev).map((z) => z.id));
    crossed = crossed.filter((z) => !before.has(z.id));
  }
  return crossed.map((z) => ({
    type: 'RESTRICTED_ZONE_ENTERED',
    action: 'raise',
    at: fix.ts,
    details: { ...zoneDetails(z), via: 'segment', from: { lat: prev.lat, lon: prev.lon }, fix: at },
  }));
}
