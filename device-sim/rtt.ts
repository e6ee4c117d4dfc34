// Round-trip times a data center measures to landmark servers, from the real distance between them: light in
// fibre covers about 200 km per ms, cables wander (route inflation), and routers add queueing jitter. Whatever the
// inflation and jitter, an RTT never drops below what light in vacuum needs (2·d / 300 km/ms): chipwatch's
// ATTESTATION_RTT_IMPLAUSIBLE check relies on that bound, so the simulator must respect it to be believable.
import { haversineKm } from '../src/geo/spherical.ts';
import type { LatLon } from '../src/geo/types.ts';

export const FIBRE_KM_PER_MS = 200;
export const LIGHT_KM_PER_MS = 299.792458;

export interface RttOptions {
  /** Cable path length over great-circle distance; real networks measure 1.3–2.5. */
  inflation?: number;
  /** Fixed processing and last-mile delay, ms. */
  baseMs?: number;
  /** Mean of the exponential queueing jitter, ms. */
  jitterMeanMs?: number;
  random?: () => number;
}

/** The shortest RTT physics allows between two points `distanceKm` apart. */
export function lightFloorMs(distanceKm: number): number {
  return (2 * distanceKm) / LIGHT_KM_PER_MS;
}

/** A measured RTT (ms, 0.01 ms resolution, rounded up so rounding never beats light). */
export function simulateRttMs(from: LatLon, to: LatLon, opts: RttOptions = {}): number {
  const random = opts.random ?? Math.random;
  const d = haversineKm(from, to);
  const inflation = Math.max(1, opts.inflation ?? 1.5);
  const jitter = -Math.log(1 - random()) * (opts.jitterMeanMs ?? 0.3);
  const rtt = (2 * d * inflation) / FIBRE_KM_PER_MS + (opts.baseMs ?? 0.2) + jitter;
  return Math.ceil(Math.max(rtt, lightFloorMs(d)) * 100) / 100;
}
