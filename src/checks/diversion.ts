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
import { destinationPoint, haversineKm, initialBearingDeg, pointToSegmentKm } from '../geo/spherical.ts';
import type { ClearBox, LatLon, RouteFix, Zone } from '../geo/types.ts';
import { clearBoxMarginKm, inClearBox } from '../geo/zone-clear.ts';
import { forbiddenZones } from './clearance.ts';
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

/** How the check may spare work without changing its answer (all on unless `full`). */
export interface DiversionAids {
  /** Measure every border distance at once, as the plain evaluation does. */
  full?: boolean;
  /** A clear box (no forbidden zone reaches it) that holds the fix and is still valid. */
  clear?: ClearBox | null;
  /** The restricted and unlicensed zones holding the fix, in the index's order, when already looked up. */
  inside?: Zone[];
  /** The filter of restricted or unlicensed zones, when the caller has one. */
  forbidden?: (z: Zone) => boolean;
}

export const initialDiversion: DiversionState = { window: [] };

/** Borders farther than this do not make a diversion imminent; the course test looks farther for fast craft. */
const SEARCH_KM = 1000;
/** No farther than the mode could travel within the horizon: a ship never needs the 1,000 km search. */
const searchKm = (ctx: ShipmentContext) =>
  Math.min(SEARCH_KM, ctx.params.cruiseMaxKmh * ctx.params.diversionHorizonHours);
const MAX_STEP_KM = 100;

function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/** The course over the window if every leg of it stays within `maxSpread`° of the overall course. */
export function heldCourse(window: LatLon[], maxSpreadDeg: number): number | undefined {
  const first = window[0];
  const last = window.at(-1);
  if (!first || !last || haversineKm(first, last) < 1) return undefined;
  const course = initialBearingDeg(first, last);
  for (let i = 1; i < window.length; i++) {
    const a = window[i - 1]!;
    const b = window[i]!;
    if (haversineKm(a, b) < 0.5) continue;
    if (angleDiff(initialBearingDeg(a, b), course) > maxSpreadDeg) return undefined;
  }
  return course;
}

interface Lookahead {
  /** The destination lies on the course before any forbidden zone. */
  destinationFirst: boolean;
  hit?: { zone: Zone; aheadKm: number };
  /** The first licence-required zone crossed before the restricted one the course leads to. */
  via?: { zone: Zone; aheadKm: number };
  reachKm: number;
}

function lookAhead(
  fix: Fix,
  course: number,
  reachKm: number,
  ctx: ShipmentContext,
  forbidden: (z: Zone) => boolean,
  aids: DiversionAids,
): Lookahead {
  const dest = ctx.destination;
  const destKm = haversineKm(fix, dest);
  const closeKm = Math.max(dest.radiusKm, ctx.corridorKm);
  if (destKm <= closeKm) return { destinationFirst: true, reachKm };
  // Heading for the destination: look only as far as the destination itself.
  const offDeg = angleDiff(course, initialBearingDeg(fix, dest));
  const toward = offDeg <= ctx.params.diversionDestinationConeDeg;
  // Up to where the course's miss of the destination (the angle off, over the distance) begins to matter: a border
  // right beside the destination (Narva, on the Russian border) is not where a shipment bound there is heading.
  const missKm = closeKm + destKm * Math.sin((offDeg * Math.PI) / 180);
  const limitKm = toward ? Math.min(reachKm, Math.max(0, destKm - missKm)) : reachKm;
  if (limitKm <= 0) return { destinationFirst: true, reachKm };
  const steps = Math.max(1, Math.ceil(limitKm / MAX_STEP_KM));
  // A clear box in no zone: no step inside it crosses a border.
  const clear = aids.full || aids.clear?.inside ? undefined : aids.clear;
  if (!aids.full && !clear) {
    // Already inside a restricted zone: the first step's answer (the zones at its start come first).
    const zones = aids.inside ?? ctx.zones.zonesAt(fix, forbidden);
    const inside = zones.find(ctx.isRestricted);
    if (inside) return { destinationFirst: false, hit: { zone: inside, aheadKm: limitKm / steps }, reachKm };
  }
  let from: LatLon = fix;
  let via: Lookahead['via'];
  let reached = toward;
  for (let i = 1; i <= steps; i++) {
    const aheadKm = (limitKm * i) / steps;
    const to = destinationPoint(fix, course, aheadKm);
    // A step inside the clear box crosses nothing (steps are shorter than the index's densify step).
    const crossed =
      clear && inClearBox(clear, from) && inClearBox(clear, to)
        ? []
        : ctx.zones.zonesCrossed(from, to, forbidden);
    const restricted = crossed.find(ctx.isRestricted);
    if (restricted)
      return {
        destinationFirst: false,
        hit: { zone: restricted, aheadKm },
        ...(via ? { via } : {}),
        reachKm,
      };
    if (!via && crossed[0]) via = { zone: crossed[0], aheadKm };
    if (pointToSegmentKm(dest, from, to) <= closeKm) {
      reached = true;
      break;
    }
    from = to;
  }
  if (via) return { destinationFirst: false, hit: via, reachKm };
  return { destinationFirst: reached, reachKm };
}

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
  let travelled = 0;
  for (let i = 1; i < window.length; i++) travelled += haversineKm(window[i - 1]!, window[i]!);
  const speedKmh = travelled / hours;
  const destKm = haversineKm(fix, ctx.destination);
  const remainingKm = Math.max(ctx.route.route.lengthKm - loc.alongKm, destKm);
  const reachKm = Math.min(
    Math.min(speedKmh, p.cruiseMaxKmh) * p.diversionHorizonHours,
    1.5 * remainingKm + 2 * ctx.corridorKm,
  );
  // (a) Where the held course leads within the look-ahead.
  const course = heldCourse(window, p.diversionMaxCourseSpreadDeg);
  if (course !== undefined && speedKmh > 1) {
    const ahead = lookAhead(fix, course, reachKm, ctx, forbidden, aids);
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

const borderKmOf = (w: WindowFix) => w.borderKm as number;

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
