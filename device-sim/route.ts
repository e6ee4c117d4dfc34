// Where a simulated tracker is: great-circle motion at constant speed (sphere maths from src/geo/spherical.ts),
// with GPS noise in metres.
import {
  EARTH_RADIUS_KM,
  haversineKm,
  initialBearingDeg,
  interpolateGreatCircle,
  wrapLon,
} from '../src/geo/spherical.ts';
import type { LatLon } from '../src/geo/types.ts';
import type { TelemetryRecord } from './signer.ts';

const RAD = Math.PI / 180;

/** Moves a point by metres north and east; fine for GPS-noise distances, not for kilometres. */
export function offsetMetres(p: LatLon, northM: number, eastM: number): LatLon {
  const metresPerDegLat = (EARTH_RADIUS_KM * 1000 * Math.PI) / 180;
  const lat = Math.max(-90, Math.min(90, p.lat + northM / metresPerDegLat));
  const cosLat = Math.max(Math.cos(p.lat * RAD), 1e-6);
  return { lat, lon: wrapLon(p.lon + eastM / (metresPerDegLat * cosLat)) };
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
  const totalKm = haversineKm(from, to);
  const durationMs =
    totalKm === 0 ? 0 : speedKmh > 0 ? (totalKm / speedKmh) * 3_600_000 : Number.POSITIVE_INFINITY;
  const finalCourse = totalKm === 0 ? 0 : (initialBearingDeg(to, from) + 180) % 360;

  return {
    distanceKm: totalKm,
    durationMs,
    record(ts: number): TelemetryRecord {
      const elapsedMs = Math.max(0, ts - startTs);
      const fraction = durationMs === 0 ? 1 : Math.min(1, elapsedMs / durationMs);
      const moving = fraction < 1;
      const truePos = interpolateGreatCircle(from, to, fraction);
      // Course from the true position (not the noisy one), else heading would jitter wildly at low speed.
      const headingDeg = moving ? initialBearingDeg(truePos, to) : finalCourse;
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
