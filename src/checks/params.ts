// Default thresholds of the checks, per transport mode; a shipment's `params` override any of them.
import { z } from 'zod';
import type { CheckParams } from './types.ts';

const COMMON = {
  // A corridor exit is a deviation only when 3 fixes in a row over 15 minutes agree: one noisy fix is not.
  deviationMinFixes: 3,
  deviationMinMinutes: 15,
  // Back inside the corridor for 30 minutes clears the deviation.
  deviationClearMinutes: 30,
  // Half a day of warning at current speed: a ship at 35 km/h sees 420 km ahead, a truck at 80 km/h 960 km.
  diversionHorizonHours: 12,
  // The course is judged over 4 fixes whose segment bearings stay within 35° of each other, not one heading.
  diversionWindowFixes: 4,
  diversionMaxCourseSpreadDeg: 35,
  // Or: off-route and 30 km closer to a restricted border over that window.
  diversionApproachMinKm: 30,
  // GNSS noise is metres and a ship swings round its anchor within ~1 km: 2 km is "not moving".
  stopRadiusKm: 2,
  // Transshipment hubs get 2 hours: long enough for a traffic jam or a border queue, short of a reload.
  stopMinutesWatch: 120,
  // A gap of 3 report intervals is a loss of signal (one or two missed reports happen).
  gapIntervals: 3,
  // Inside a sealed case it is dark; 20 lux is a dim room.
  lightLuxThreshold: 20,
  // 5 identical coordinates in a row while the device reports motion: a frozen (replayed) track.
  frozenFixes: 5,
  // Stopped for good: 48 hours at one place outside the destination.
  destinationMismatchHours: 48,
} as const;

const BY_MODE: Record<'sea' | 'air' | 'road', Pick<CheckParams, 'stopMinutes' | 'maxSpeedKmh'>> = {
  // Ships wait at anchorage for a berth; a day is unremarkable. The fastest container ships do ~45 km/h.
  sea: { stopMinutes: 24 * 60, maxSpeedKmh: 60 },
  // Freight sits on aprons between flights; airliners cruise below 1,000 km/h ground speed but jet streams add.
  air: { stopMinutes: 12 * 60, maxSpeedKmh: 1100 },
  // Trucks stop for drivers' rest (9–11 h a day in the EU); 12 h covers a night.
  road: { stopMinutes: 12 * 60, maxSpeedKmh: 160 },
};

export function defaultParams(
  mode: 'sea' | 'air' | 'road',
  overrides: Partial<CheckParams> = {},
): CheckParams {
  return { ...COMMON, ...BY_MODE[mode], ...overrides };
}

/** Any subset of the thresholds, as a shipment's `params` or the global CHECK_PARAMS give them. */
export const checkParamsSchema = z
  .object({
    deviationMinFixes: z.number().int().min(1).max(100),
    deviationMinMinutes: z.number().min(0),
    deviationClearMinutes: z.number().min(0),
    diversionHorizonHours: z.number().positive().max(72),
    diversionWindowFixes: z.number().int().min(2).max(20),
    diversionMaxCourseSpreadDeg: z.number().min(1).max(180),
    diversionApproachMinKm: z.number().positive(),
    stopRadiusKm: z.number().positive().max(50),
    stopMinutes: z.number().positive(),
    stopMinutesWatch: z.number().positive(),
    gapIntervals: z.number().min(1).max(100),
    lightLuxThreshold: z.number().min(0),
    maxSpeedKmh: z.number().positive().max(5000),
    frozenFixes: z.number().int().min(2).max(100),
    destinationMismatchHours: z.number().positive(),
  })
  .partial()
  .strict();
