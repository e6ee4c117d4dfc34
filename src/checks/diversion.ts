// DIVERSION_TOWARD_RESTRICTED: off the corridor and either (a) the course held over the recent fixes leads into a
// restricted zone within the horizon at the current speed, or (b) the distance to the nearest restricted border
// has shrunk steadily over those fixes. Judging the course over several fixes (not one noisy heading) and only
// off the corridor keeps ships silent that pass a restricted coast on their planned lane (Taiwan Strait, Hormuz).
import type { AlertEvent } from '../domain/alerts.ts';
import { destinationPoint, haversineKm, initialBearingDeg } from '../geo/spherical.ts';
import type { LatLon, Zone } from '../geo/types.ts';
import { round } from './format.ts';
import type { CheckResult, Fix, ShipmentContext } from './types.ts';

interface WindowFix extends LatLon {
  ts: number;
  /** Distance to the nearest forbidden border, computed while off the corridor. */
  borderKm?: number;
}

export interface DiversionState {
  window: WindowFix[];
}

export const initialDiversion: DiversionState = { window: [] };

/** Borders farther than this do not make a diversion imminent; the course test looks farther for fast craft. */
const SEARCH_KM = 1000;
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

export function checkDiversion(
  s: DiversionState,
  fix: Fix,
  crossTrackKm: number,
  ctx: ShipmentContext,
): CheckResult<DiversionState> {
  const p = ctx.params;
  const offCorridor = crossTrackKm > ctx.corridorKm;
  const forbidden = (z: Zone) => ctx.isRestricted(z) || ctx.isUnlicensed(z);
  const entry: WindowFix = { ts: fix.ts, lat: fix.lat, lon: fix.lon };
  if (offCorridor)
    entry.borderKm = ctx.zones.nearest(fix, forbidden, SEARCH_KM)?.distanceKm ?? Number.POSITIVE_INFINITY;
  const window = [...s.window, entry].slice(-p.diversionWindowFixes);
  const state = { window };
  if (!offCorridor || window.length < p.diversionWindowFixes) return { state, events: [] };

  const first = window[0]!;
  const hours = (fix.ts - first.ts) / 3_600_000;
  if (hours <= 0) return { state, events: [] };
  const travelled = window.slice(1).reduce((sum, w, i) => sum + haversineKm(window[i]!, w), 0);
  const speedKmh = travelled / hours;
  const base = {
    crossTrackKm: round(crossTrackKm),
    speedKmh: round(speedKmh),
    fix: { ts: new Date(fix.ts).toISOString(), lat: fix.lat, lon: fix.lon },
  };

  // (a) Where the held course leads within the horizon.
  const course = heldCourse(window, p.diversionMaxCourseSpreadDeg);
  if (course !== undefined && speedKmh > 1) {
    const reachKm = speedKmh * p.diversionHorizonHours;
    const steps = Math.max(1, Math.ceil(reachKm / MAX_STEP_KM));
    let from: LatLon = fix;
    for (let i = 1; i <= steps; i++) {
      const to = destinationPoint(fix, course, (reachKm * i) / steps);
      const hit = ctx.zones.zonesCrossed(from, to, forbidden)[0];
      if (hit) {
        const aheadKm = (reachKm * i) / steps;
        return {
          state,
          events: [
            event(fix, {
              ...base,
              reason: 'course',
              zoneId: hit.id,
              zoneName: hit.name,
              tier: hit.tier,
              courseDeg: round(course),
              withinKm: round(aheadKm),
              etaHours: round(aheadKm / speedKmh),
              horizonHours: p.diversionHorizonHours,
            }),
          ],
        };
      }
      from = to;
    }
  }

  // (b) The border keeps getting closer.
  const dists = window.map((w) => w.borderKm);
  if (dists.every((d): d is number => d !== undefined && Number.isFinite(d))) {
    const steady = dists.every((d, i) => i === 0 || d < dists[i - 1]!);
    const closedKm = dists[0]! - dists.at(-1)!;
    if (steady && closedKm >= p.diversionApproachMinKm) {
      const nearest = ctx.zones.nearest(fix, forbidden, SEARCH_KM);
      return {
        state,
        events: [
          event(fix, {
            ...base,
            reason: 'approaching',
            zoneId: nearest?.zone.id ?? null,
            zoneName: nearest?.zone.name ?? null,
            borderKm: round(dists.at(-1)!),
            closedKm: round(closedKm),
            overHours: round(hours),
          }),
        ],
      };
    }
  }
  return { state, events: [] };
}

function event(fix: Fix, details: Record<string, unknown>): AlertEvent {
  return { type: 'DIVERSION_TOWARD_RESTRICTED', action: 'raise', at: fix.ts, details };
}
