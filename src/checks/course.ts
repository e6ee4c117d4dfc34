// Where a course held over the diversion window leads (diversion.ts, test (a)): the look-ahead steps along it, at
// most MAX_STEP_KM at a time, and reports the first restricted zone it would cross, the licence-required one it
// would cross on the way, or that it reaches the declared destination first.
import { destinationPoint, EARTH_RADIUS_KM, initialBearingDeg, pointToSegmentKm } from '../geo/spherical.ts';
import type { ClearBox, LatLon, Zone } from '../geo/types.ts';
import { inClearBox } from '../geo/zone-clear.ts';
import type { Fix, ShipmentContext } from './types.ts';

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
  /** The distance from the fix to the destination (haversineKm(fix, destination)), when the caller has it. */
  destinationKm?: number;
}

const MAX_STEP_KM = 100;

function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/**
 * The legs of a window (haversineKm from each fix to the next) and the course held over it: the course from its
 * first fix to its last, if at least 1 km apart and every leg of 0.5 km or more stays within `maxSpreadDeg` of it.
 * The sines and cosines of each fix's latitude are taken once: the same arithmetic as haversineKm and
 * initialBearingDeg, the same numbers. The diversion check wants both at every fix off the corridor.
 */
export function windowLegs(
  window: LatLon[],
  maxSpreadDeg: number,
): { legKm: number[]; travelledKm: number; course: number | undefined } {
  const n = window.length;
  const cos = new Array<number>(n);
  const sin = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const φ = window[i]!.lat * RAD;
    cos[i] = Math.cos(φ);
    sin[i] = Math.sin(φ);
  }
  const legKm = new Array<number>(Math.max(0, n - 1));
  let travelledKm = 0;
  for (let i = 1; i < n; i++) {
    legKm[i - 1] = legKmOf(window, cos, i - 1, i);
    travelledKm += legKm[i - 1]!;
  }
  if (n === 0 || legKmOf(window, cos, 0, n - 1) < 1) return { legKm, travelledKm, course: undefined };
  const course = bearingOf(window, cos, sin, 0, n - 1);
  for (let i = 1; i < n; i++) {
    if (legKm[i - 1]! < 0.5) continue;
    if (angleDiff(bearingOf(window, cos, sin, i - 1, i), course) > maxSpreadDeg)
      return { legKm, travelledKm, course: undefined };
  }
  return { legKm, travelledKm, course };
}
/** haversineKm(window[i], window[j]) with the latitudes' cosines given. */
function legKmOf(window: LatLon[], cos: number[], i: number, j: number): number {
  const [a, b] = [window[i]!, window[j]!];
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + cos[i]! * cos[j]! * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** initialBearingDeg(window[i], window[j]) with the latitudes' cosines and sines given. */
function bearingOf(window: LatLon[], cos: number[], sin: number[], i: number, j: number): number {
  const dλ = (window[j]!.lon - window[i]!.lon) * RAD;
  const y = Math.sin(dλ) * cos[j]!;
  const x = cos[i]! * sin[j]! - sin[i]! * cos[j]! * Math.cos(dλ);
  return (Math.atan2(y, x) * DEG + 360) % 360;
}
const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

export interface Lookahead {
  /** The destination lies on the course before any forbidden zone. */
  destinationFirst: boolean;
  hit?: { zone: Zone; aheadKm: number };
  /** The first licence-required zone crossed before the restricted one the course leads to. */
  via?: { zone: Zone; aheadKm: number };
  reachKm: number;
}

export function lookAhead(
  fix: Fix,
  course: number,
  reachKm: number,
  destKm: number,
  ctx: ShipmentContext,
  forbidden: (z: Zone) => boolean,
  aids: DiversionAids,
): Lookahead {
  const dest = ctx.destination;
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
