// Where a simulated tracker is: great-circle motion at constant speed, with GPS noise in metres.
import type { TelemetryRecord } from './signer.ts';

export interface LatLon {
  lat: number;
  lon: number;
}

export const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

type Vec = [number, number, number];

function toVec({ lat, lon }: LatLon): Vec {
  const latR = lat * RAD;
  const lonR = lon * RAD;
  return [Math.cos(latR) * Math.cos(lonR), Math.cos(latR) * Math.sin(lonR), Math.sin(latR)];
}

function toLatLon([x, y, z]: Vec): LatLon {
  return { lat: Math.atan2(z, Math.hypot(x, y)) / RAD, lon: Math.atan2(y, x) / RAD };
}

/** Central angle in radians; atan2 stays accurate for tiny and near-antipodal angles where acos does not. */
function centralAngle(a: Vec, b: Vec): number {
  const cross = Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
  return Math.atan2(cross, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]);
}

export function distanceKm(a: LatLon, b: LatLon): number {
  return centralAngle(toVec(a), toVec(b)) * EARTH_RADIUS_KM;
}

/** Initial course from a to b, degrees clockwise from north in [0, 360). */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const lat1 = a.lat * RAD;
  const lat2 = b.lat * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const theta = Math.atan2(
    Math.sin(dLon) * Math.cos(lat2),
    Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dLon),
  );
  return (theta / RAD + 360) % 360;
}

/** The point `fraction` (0..1) of the way along the great circle (spherical linear interpolation). */
export function interpolateGreatCircle(from: LatLon, to: LatLon, fraction: number): LatLon {
  const a = toVec(from);
  const b = toVec(to);
  const d = centralAngle(a, b);
  if (d < 1e-12) return { lat: from.lat, lon: from.lon };
  const wa = Math.sin((1 - fraction) * d) / Math.sin(d);
  const wb = Math.sin(fraction * d) / Math.sin(d);
  return toLatLon([wa * a[0] + wb * b[0], wa * a[1] + wb * b[1], wa * a[2] + wb * b[2]]);
}

/** Moves a point by metres north and east; fine for GPS-noise distances, not for kilometres. */
export function offsetMetres(p: LatLon, northM: number, eastM: number): LatLon {
  const metresPerDegLat = (EARTH_RADIUS_KM * 1000 * Math.PI) / 180;
  const lat = Math.max(-90, Math.min(90, p.lat + northM / metresPerDegLat));
  const cosLat = Math.max(Math.cos(p.lat * RAD), 1e-6);
  let lon = p.lon + eastM / (metresPerDegLat * cosLat);
  lon = ((((lon + 180) % 360) + 360) % 360) - 180;
  return { lat, lon };
}

/** Deterministic uniform [0, 1) source (mulberry32), so a test can replay the same track. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box–Muller) from a uniform source. */
export function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export const round = (x: number, decimals: number): number => Math.round(x * 10 ** decimals) / 10 ** decimals;

export interface TrackOptions {
  /** Device time at `from`; default now. */
  startTs?: number;
  /** Standard deviation of position noise, metres (default 3). */
  noiseM?: number;
  random?: () => number;
}

export interface Track {
  readonly distanceKm: number;
  /** Time from `from` to `to` at the track's speed; Infinity when the speed is 0. */
  readonly durationMs: number;
  /** The fix a tracker on this track reports at device time `ts`; it stays at `to` after arriving. */
  record(ts: number): TelemetryRecord;
}

export function lineTrack(from: LatLon, to: LatLon, speedKmh: number, opts: TrackOptions = {}): Track {
  const startTs = opts.startTs ?? Date.now();
  const noiseM = opts.noiseM ?? 3;
  const random = opts.random ?? Math.random;
  const totalKm = distanceKm(from, to);
  const durationMs =
    totalKm === 0 ? 0 : speedKmh > 0 ? (totalKm / speedKmh) * 3_600_000 : Number.POSITIVE_INFINITY;
  const finalCourse = totalKm === 0 ? 0 : (bearingDeg(to, from) + 180) % 360;

  return {
    distanceKm: totalKm,
    durationMs,
    record(ts: number): TelemetryRecord {
      const elapsedMs = Math.max(0, ts - startTs);
      const fraction = durationMs === 0 ? 1 : Math.min(1, elapsedMs / durationMs);
      const moving = fraction < 1;
      const truePos = interpolateGreatCircle(from, to, fraction);
      // Course from the true position (not the noisy one), else heading would jitter wildly at low speed.
      const headingDeg = moving ? bearingDeg(truePos, to) : finalCourse;
      const pos = offsetMetres(truePos, gaussian(random) * noiseM, gaussian(random) * noiseM);
      const hours = elapsedMs / 3_600_000;
      return {
        ts,
        lat: round(pos.lat, 7),
        lon: round(pos.lon, 7),
        speedKmh: moving ? round(Math.max(0, speedKmh * (1 + 0.02 * gaussian(random))), 1) : 0,
        headingDeg: round(headingDeg, 1) % 360,
        hdop: round(0.8 + 0.4 * random(), 1),
        satellites: 8 + Math.floor(5 * random()),
        batteryPct: round(Math.max(0, 100 - 0.1 * hours), 1),
        temperatureC: round(21 + 0.5 * gaussian(random), 1),
        lightLux: 0,
        tamper: false,
      };
    },
  };
}
