// DIVERSION_TOWARD_RESTRICTED: off the corridor and either (a) the course held over the recent fixes leads into a
// restricted zone within the horizon at the current speed, or (b) the distance to the nearest restricted border
// has shrunk steadily over those fixes. Judging the course over several fixes (not one noisy heading) and only
// off the corridor keeps ships silent that pass a restricted coast on their planned lane (Taiwan Strait, Hormuz).
// A course that reaches the declared destination before any forbidden zone (within diversionDestinationConeDeg of
// its bearing, or passing within the destination's radius or the corridor of it) is heading there, not diverting:
// an aircraft on a wind-shifted track, a truck on a detour. The look-ahead covers the horizon at the current speed,
// capped at the mode's plausible cruise speed and at 1.5 × the distance still to go plus two corridors; past the
// first licence-required zone it goes on to the restricted country the course leads to, and names that one.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm, initialBearingDeg } from '../geo/spherical.ts';
import type { ClearBox, LatLon, RouteFix, Zone } from '../geo/types.ts';
import { clearBoxMarginKm, inClearBox } from '../geo/zone-clear.ts';
import { forbiddenZones } from './clearance.ts';
import { type DiversionAids, lookAhead, windowLegs } from './course.ts';
import { isoTime, round } from './format.ts';
import type { CheckResult, Fix, ShipmentContext } from './types.ts';

interface WindowFix extends LatLon {
  ts: number;
  /** Distance to the nearest forbidden border, off the corridor (null or ∞: none within the search). */
  borderKm?: number | null;
  /** Off the corridor, the distance not measured yet: measured only when the approach test needs it. */
  due?: true;
}

export interface DiversionState {
  window: WindowFix[];
  /** The last border distance measured and where (km: the search radius when none lay within it). */
  border?: { lat: number; lon: number; km: number } | null;
}

export const initialDiversion: DiversionState = { window: [] };

/** Borders farther than this do not make a diversion imminent; the course test looks farther for fast craft. */
const SEARCH_KM = 1000;
/** No farther than the mode could travel within the horizon: a ship never needs the 1,000 km search. */
const searchKm = (ctx: ShipmentContext) =>
  Math.min(SEARCH_KM, ctx.params.cruiseMaxKmh * ctx.params.diversionHorizonHours);
const zoneFields = (z: Zone) => ({
  zoneId: z.id,
  zoneName: z.name,
  tier: z.tier,
  country: z.country ?? null,
});

export function checkDiversion(
  s: DiversionState,
  fix: Fix,
  loc: Pick<RouteFix, 'crossTrackKm' | 'alongKm'>,
  ctx: ShipmentContext,
  aids: DiversionAids = {},
): CheckResult<DiversionState> {
  const p = ctx.params;
  const crossTrackKm = loc.crossTrackKm;
  const offCorridor = crossTrackKm > ctx.corridorKm;
  const forbidden = aids.forbidden ?? forbiddenZones(ctx);
  const entry: WindowFix = { ts: fix.ts, lat: fix.lat, lon: fix.lon };
  const n = p.diversionWindowFixes;
  const window = s.window.length >= n ? s.window.slice(s.window.length - n + 1) : s.window.slice();
  window.push(entry);
  const state: DiversionState = { window, border: s.border ?? null };
  if (offCorridor) {
    if (aids.full) measureBorder(state, window.length - 1, ctx, forbidden);
    else entry.due = true;
  }
  if (!offCorridor || window.length < n) return { state, events: [] };

  const first = window[0]!;
  const hours = (fix.ts - first.ts) / 3_600_000;
  if (hours <= 0) return { state, events: [] };
  const legs = windowLegs(window, p.diversionMaxCourseSpreadDeg);
  const speedKmh = legs.travelledKm / hours;
  const destKm = aids.destinationKm ?? haversineKm(fix, ctx.destination);
  const remainingKm = Math.max(ctx.route.route.lengthKm - loc.alongKm, destKm);
  const reachKm = Math.min(
    Math.min(speedKmh, p.cruiseMaxKmh) * p.diversionHorizonHours,
    1.5 * remainingKm + 2 * ctx.corridorKm,
  );
  // (a) Where the held course leads within the look-ahead.
  const course = legs.course;
  if (course !== undefined && speedKmh > 1) {
    const ahead = lookAhead(fix, course, reachKm, destKm, ctx, forbidden, aids);
    // Heading for its destination: whatever lies beyond it is not where this shipment is going.
    if (ahead.destinationFirst) return { state, events: [] };
    if (ahead.hit) {
      const { zone, aheadKm } = ahead.hit;
      const details = baseDetails(fix, first, window.length, ctx, crossTrackKm, speedKmh, destKm, reachKm);
      details.reason = 'course';
      Object.assign(details, zoneFields(zone));
      details.courseDeg = round(course);
      details.bearingToDestinationDeg = round(initialBearingDeg(fix, ctx.destination));
      details.withinKm = round(aheadKm);
      details.etaHours = round(aheadKm / speedKmh);
      if (ahead.via) details.via = { ...zoneFields(ahead.via.zone), withinKm: round(ahead.via.aheadKm) };
      return { state, events: [event(fix, details)] };
    }
  }

  // (b) The border keeps getting closer, and the shipment is not closing on its destination. Distances are measured
  // only here, newest first, and only while the newest could lie within the look-ahead: the distance from a fix
  // moves by at most the distance moved, so the last one measured (or the clear box's sides) bounds it from below.
  for (const w of window) if (w.borderKm === undefined && !w.due) return { state, events: [] };
  const last = window.length - 1;
  let nearest: ReturnType<typeof measureBorder>;
  if (window[last]!.due) {
    if (lowerBoundKm(state.border, fix, aids.clear) > reachKm) return { state, events: [] };
    nearest = measureBorder(state, last, ctx, forbidden);
  }
  const lastKm = window[last]!.borderKm;
  if (lastKm === null || lastKm === undefined || !(lastKm <= reachKm)) return { state, events: [] };
  for (let i = last - 1; i >= 0; i--) if (window[i]!.due) measureBorder(state, i, ctx, forbidden);
  // Every distance known and finite, each smaller than the one before.
  let steady = true;
  for (let i = 0; i < window.length; i++) {
    const d = window[i]!.borderKm;
    if (d === undefined || d === null || !Number.isFinite(d)) return { state, events: [] };
    if (i > 0 && !(d < window[i - 1]!.borderKm!)) steady = false;
  }
  const newestKm = window[last]!.borderKm!;
  const closedKm = window[0]!.borderKm! - newestKm;
  const towardDestination = haversineKm(first, ctx.destination) - destKm >= closedKm;
  if (steady && closedKm >= p.diversionApproachMinKm && !towardDestination && newestKm <= reachKm) {
    nearest ??= ctx.zones.nearest(fix, forbidden, searchKm(ctx));
    const details = baseDetails(fix, first, window.length, ctx, crossTrackKm, speedKmh, destKm, reachKm);
    details.reason = 'approaching';
    Object.assign(
      details,
      nearest ? zoneFields(nearest.zone) : { zoneId: null, zoneName: null, country: null },
    );
    details.borderKm = round(newestKm);
    details.closedKm = round(closedKm);
    details.overHours = round(hours);
    details.etaHours = round(newestKm / Math.max(closedKm / hours, 1e-6));
    return { state, events: [event(fix, details)] };
  }
  return { state, events: [] };
}

/** What every diversion alert says: where the shipment is, how fast it goes, how far the look-ahead reached. */
function baseDetails(
  fix: Fix,
  first: WindowFix,
  windowFixes: number,
  ctx: ShipmentContext,
  crossTrackKm: number,
  speedKmh: number,
  destKm: number,
  reachKm: number,
): Record<string, unknown> {
  return {
    crossTrackKm: round(crossTrackKm),
    corridorKm: ctx.corridorKm,
    speedKmh: round(speedKmh),
    fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
    windowFrom: { ts: isoTime(first.ts), lat: first.lat, lon: first.lon },
    windowFixes,
    destination: { name: ctx.destination.name ?? null, lat: ctx.destination.lat, lon: ctx.destination.lon },
    distanceToDestinationKm: round(destKm),
    lookAheadKm: round(reachKm),
    horizonHours: ctx.params.diversionHorizonHours,
  };
}

/** Measures window fix i's distance to the nearest forbidden border, into the window and as the last measured. */
function measureBorder(
  state: DiversionState,
  i: number,
  ctx: ShipmentContext,
  forbidden: (z: Zone) => boolean,
) {
  const w = state.window[i]!;
  const hit = ctx.zones.nearest(w, forbidden, searchKm(ctx));
  const km = hit?.distanceKm ?? Number.POSITIVE_INFINITY;
  state.window[i] = { ts: w.ts, lat: w.lat, lon: w.lon, borderKm: km };
  state.border = { lat: w.lat, lon: w.lon, km: hit ? km : searchKm(ctx) };
  return hit;
}

/**
 * Zones are planar in lon/lat, distances are to their edges taken as great-circle arcs: the two part by well under
 * a kilometre on country borders, by up to tens of km along a custom zone's edge of 1,000 km. A bound carried from
 * another point keeps this much in hand.
 */
const ARC_MARGIN_KM = 50;

/** A lower bound of the distance from the fix to the nearest forbidden border, km (0 when nothing is known). */
function lowerBoundKm(
  border: DiversionState['border'],
  fix: Fix,
  clear: ClearBox | null | undefined,
): number {
  const fromLast = border ? border.km - haversineKm(border, fix) - ARC_MARGIN_KM : 0;
  const fromBox = clear && inClearBox(clear, fix) ? clearBoxMarginKm(clear, fix) : 0;
  return Math.max(0, fromLast, fromBox);
}

function event(fix: Fix, details: Record<string, unknown>): AlertEvent {
  return { type: 'DIVERSION_TOWARD_RESTRICTED', action: 'raise', at: fix.ts, details };
}
