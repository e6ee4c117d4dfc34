// RESTRICTED_ZONE_ENTERED: a fix inside a restricted zone, or the segment from the previous fix crossing one
// (a tracker reporting every 30 minutes can cross a border between two fixes). Licence-required zones without a
// licence alert when entered off the planned corridor: passing on the licensed lane (the Suez Canal lies inside
// Egypt's polygon) is transit, not an export. Late fixes are checked too: a fix inside a restricted country is
// evidence whenever it arrives.
// Aircraft: crossing a restricted country at cruise (altitude and ground speed) on the planned corridor is an
// overflight, not an export: the fix is flagged RESTRICTED_OVERFLIGHT (an info record on the position) and nothing is
// raised. Below cruise altitude, descending, slow, or off the corridor over that country is an entry at once.
import type { AlertEvent } from '../domain/alerts.ts';
import type { Zone } from '../geo/types.ts';
import { forbiddenZones } from './clearance.ts';
import { isoTime, round } from './format.ts';
import type { Fix, ShipmentContext } from './types.ts';

function zoneDetails(z: Zone) {
  return { zoneId: z.id, zoneName: z.name, tier: z.tier, kind: z.kind, country: z.country ?? null };
}

/** Descending more than this between two fixes is leaving cruise (step climbs and descents are ~600 m). */
const DESCENT_M = 1500;

/** Why an aircraft fix is not a plain overflight, or undefined when it is one (or when the mode is not air). */
export function airborneReason(prev: Fix | undefined, fix: Fix, ctx: ShipmentContext, crossTrackKm: number) {
  if (ctx.mode !== 'air') return 'not an aircraft';
  const p = ctx.params;
  if (crossTrackKm > ctx.corridorKm) return 'off the planned corridor';
  if (fix.speedKmh === undefined) return 'ground speed not reported';
  if (fix.speedKmh < p.overflightMinSpeedKmh) return 'slowed below cruise';
  if (fix.altM !== undefined && fix.altM < p.overflightMinAltM) return 'below cruise altitude';
  if (fix.altM !== undefined && prev?.altM !== undefined && prev.altM - fix.altM > DESCENT_M)
    return 'descending';
  return undefined;
}

/** The details with the aircraft's figures added (for aircraft only), written in place: no copies per fix. */
function withAir(d: Record<string, unknown>, fix: Fix, reason: string | undefined, ctx: ShipmentContext) {
  if (ctx.mode === 'air') Object.assign(d, airDetails(fix, reason, ctx));
  return d;
}

function airDetails(fix: Fix, reason: string | undefined, ctx: ShipmentContext) {
  if (ctx.mode !== 'air') return {};
  return {
    reason: reason ?? 'overflight',
    altM: fix.altM ?? null,
    speedKmh: fix.speedKmh ?? null,
    overflightMinAltM: ctx.params.overflightMinAltM,
    overflightMinSpeedKmh: ctx.params.overflightMinSpeedKmh,
  };
}

export interface ZoneResult {
  events: AlertEvent[];
  flags: string[];
  /** The forbidden zones holding the fix, in the index's order (empty when none; absent when not looked up). */
  inside?: Zone[];
}

/**
 * `prev` is the previous trusted fix in device time (undefined for the first or for a late fix). `known`: the
 * restricted and unlicensed zones holding the fix, when a clear box says so and also that the segment from `prev`
 * meets none of their borders: then nothing is looked up.
 */
export function checkZones(
  prev: Fix | undefined,
  fix: Fix,
  ctx: ShipmentContext,
  crossTrackKm: number,
  known?: Zone[],
): ZoneResult {
  const offCorridor = crossTrackKm > ctx.corridorKm;
  // Restricted zones, and off the corridor licence-required ones no licence covers (filters made once per context).
  const forbidden = offCorridor ? forbiddenZones(ctx) : ctx.isRestricted;
  const inside = known ? known.filter(forbidden) : ctx.zones.zonesAt(fix, forbidden);
  const reason = airborneReason(prev, fix, ctx, crossTrackKm);
  const cruising = reason === undefined;
  if (inside.length > 0) {
    if (cruising) return { events: [], flags: ['RESTRICTED_OVERFLIGHT'], inside };
    const at = { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon };
    const events: AlertEvent[] = [];
    for (const z of inside) {
      events.push({
        type: 'RESTRICTED_ZONE_ENTERED',
        action: 'raise',
        at: fix.ts,
        details: withAir(
          {
            zoneId: z.id,
            zoneName: z.name,
            tier: z.tier,
            kind: z.kind,
            country: z.country ?? null,
            via: 'fix',
            fix: at,
            crossTrackKm: round(crossTrackKm),
            corridorKm: ctx.corridorKm,
          },
          fix,
          reason,
          ctx,
        ),
      });
    }
    return { inside, events, flags: [] };
  }
  if (!prev || known) return { events: [], flags: [], inside };
  let crossed = ctx.zones.zonesCrossed(prev, fix, forbidden);
  if (crossed.length > 0) {
    // Leaving a zone the previous fix was already in (on its licensed lane) is not an entry.
    const before = new Set(ctx.zones.zonesAt(prev).map((z) => z.id));
    crossed = crossed.filter((z) => !before.has(z.id));
  }
  if (crossed.length === 0) return { events: [], flags: [], inside };
  // Both ends at cruise on the corridor: flown over between two reports.
  const prevCruising = prev && airborneReason(undefined, prev, ctx, 0) === undefined;
  if (cruising && prevCruising) return { events: [], flags: ['RESTRICTED_OVERFLIGHT'], inside };
  return {
    inside,
    events: crossed.map((z) => ({
      type: 'RESTRICTED_ZONE_ENTERED',
      action: 'raise',
      at: fix.ts,
      details: {
        ...zoneDetails(z),
        via: 'segment',
        from: { ts: isoTime(prev.ts), lat: prev.lat, lon: prev.lon },
        fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
        crossTrackKm: round(crossTrackKm),
        corridorKm: ctx.corridorKm,
        ...airDetails(fix, reason ?? (prevCruising ? undefined : 'previous fix below cruise'), ctx),
      },
    })),
    flags: [],
  };
}
