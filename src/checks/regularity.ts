// SPOOFING_SUSPECTED (subtype too_regular): a track too clean for real GNSS. Over `regularWindowFixes` moving fixes,
// every position lies where constant speed on a great circle puts it (no metre of noise: a real receiver wanders
// 2–5 m even at hdop 1), and the reported speed, hdop and satellite count never change. A simulator or a replayed
// synthetic track looks like this; a tracker under open sky does not. Needs at least two of speed, hdop and
// satellites reported: a track that reports none of them cannot be judged this way.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm, interpolateGreatCircle } from '../geo/spherical.ts';
import { isoTime, round } from './format.ts';
import type { Fix, ShipmentContext } from './types.ts';

interface Sample {
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  hdop: number | null;
  satellites: number | null;
  /** Metres between this fix and where its neighbours put it (set once the next fix came). */
  residualM: number | null;
}

export interface RegularState {
  window: Sample[];
  raised: boolean;
}

export const initialRegular: RegularState = { window: [], raised: false };

/** Below this median the positions carry no GNSS noise (rounding to 6 decimals alone is ~0.1 m). */
const MAX_RESIDUAL_M = 1;
/** Moving: at least this far between fixes. */
const MIN_STEP_KM = 0.2;

/** Largest minus smallest of speed, hdop and satellites over the window; undefined for one any sample lacks. */
function spreads(window: Sample[]) {
  let [speedMin, speedMax, hdopMin, hdopMax, satsMin, satsMax] = [INF, -INF, INF, -INF, INF, -INF];
  let [speed, hdop, sats] = [true, true, true];
  for (const w of window) {
    const [v, h, n] = [w.speedKmh, w.hdop, w.satellites];
    if (v === null || v === undefined) speed = false;
    else {
      if (v < speedMin) speedMin = v;
      if (v > speedMax) speedMax = v;
    }
    if (h === null || h === undefined) hdop = false;
    else {
      if (h < hdopMin) hdopMin = h;
      if (h > hdopMax) hdopMax = h;
    }
    if (n === null || n === undefined) sats = false;
    else {
      if (n < satsMin) satsMin = n;
      if (n > satsMax) satsMax = n;
    }
  }
  return {
    speed: speed ? speedMax - speedMin : undefined,
    hdop: hdop ? hdopMax - hdopMin : undefined,
    sats: sats ? satsMax - satsMin : undefined,
  };
}
const INF = Number.POSITIVE_INFINITY;

export function checkRegularity(
  s: RegularState,
  fix: Fix,
  ctx: ShipmentContext,
): { state: RegularState; events: AlertEvent[] } {
  const n = ctx.params.regularWindowFixes;
  // The newest n (at least the two the last residual needs): n + 1 are kept with the fix.
  const window = s.window.slice(Math.max(0, s.window.length - Math.max(n, 2)));
  const prev = window.at(-1);
  if (prev && haversineKm(prev, fix) < MIN_STEP_KM)
    return { state: { window: [], raised: s.raised }, events: [] };
  const before = window.at(-2);
  if (prev && before) {
    const f = (prev.ts - before.ts) / Math.max(fix.ts - before.ts, 1);
    window[window.length - 1] = {
      ts: prev.ts,
      lat: prev.lat,
      lon: prev.lon,
      speedKmh: prev.speedKmh,
      hdop: prev.hdop,
      satellites: prev.satellites,
      residualM: haversineKm(prev, interpolateGreatCircle(before, fix, f)) * 1000,
    };
  }
  window.push({
    ts: fix.ts,
    lat: fix.lat,
    lon: fix.lon,
    speedKmh: fix.speedKmh ?? null,
    hdop: fix.hdop ?? null,
    satellites: fix.satellites ?? null,
    residualM: null,
  });
  while (window.length > n + 1) window.shift(); // (a shorter window setting in a stored state)
  const state = { window, raised: s.raised };
  if (s.raised || window.length < n + 1) return { state, events: [] };
  // The median is under the limit only if more than half the residuals are: most real tracks stop here, unsorted.
  let under = 0;
  for (let i = 1; i < window.length - 1; i++)
    if ((window[i]!.residualM ?? Number.POSITIVE_INFINITY) < MAX_RESIDUAL_M) under++;
  if (under <= Math.floor((window.length - 2) / 2)) return { state, events: [] };
  const { speed, hdop, sats } = spreads(window);
  let reported = 0;
  for (const x of [speed, hdop, sats]) {
    if (x === undefined) continue;
    if (x > 0.05) return { state, events: [] };
    reported++;
  }
  if (reported < 2) return { state, events: [] };
  // The median, not the mean: a synthetic track turns at its waypoints, and those few fixes must not hide the rest.
  const residuals = window
    .slice(1, -1)
    .map((w) => w.residualM ?? Number.POSITIVE_INFINITY)
    .sort((a, b) => a - b);
  const medianM = residuals[Math.floor(residuals.length / 2)]!;
  const first = window[0]!;
  return {
    state: { window, raised: true },
    events: [
      {
        type: 'SPOOFING_SUSPECTED',
        action: 'raise',
        at: fix.ts,
        details: {
          subtype: 'too_regular',
          flags: ['TOO_REGULAR'],
          windowFixes: window.length,
          from: { ts: isoTime(first.ts), lat: first.lat, lon: first.lon },
          fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
          positionNoiseMedianM: round(medianM, 2),
          maxPositionNoiseM: MAX_RESIDUAL_M,
          speedSpreadKmh: speed ?? null,
          hdopSpread: hdop ?? null,
          satellitesSpread: sats ?? null,
          expected: 'GNSS positions wander by metres and hdop, satellites and speed vary from fix to fix',
        },
      },
    ],
  };
}
