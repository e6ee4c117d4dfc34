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
  // Heading within 20° of the destination (an aircraft on a wind-shifted track, a truck on a detour) is going there.
  diversionDestinationConeDeg: 20,
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
  // Real GNSS never repeats hdop, satellites and speed exactly with metre-free positions for 20 fixes in a row.
  regularWindowFixes: 20,
  // Two fixes 20 minutes apart within stopRadiusKm inside the destination: it stopped there, it did not pass by.
  arrivalDwellMinutes: 20,
  // Airliners cruise at FL300–FL410 (9,100–12,500 m); below FL200 (~6,000 m) an aircraft is climbing out or
  // descending to an airport.
  overflightMinAltM: 6000,
  // Below FL100 aircraft fly at most 250 kt IAS (ICAO Doc 4444, 14 CFR 91.117) ≈ 460 km/h: slower is an approach.
  overflightMinSpeedKmh: 500,
} as const;

type ModeParams = 'stopMinutes' | 'maxSpeedKmh' | 'cruiseMaxKmh' | 'destinationMismatchHours';

const BY_MODE: Record<'sea' | 'air' | 'road', Pick<CheckParams, ModeParams>> = {
  // Ships wait at anchorage for a berth; a day is unremarkable, and 2–7 days were routine at Singapore in mid-2024
  // (MPA, Linerlytica): the voyage has ended elsewhere only after a week. The fastest container ships are designed
  // for 24–25 kn (~46 km/h, Emma Maersk class); 60 km/h (32 kn) leaves room for GNSS noise and fast ro-ro.
  sea: { stopMinutes: 24 * 60, maxSpeedKmh: 60, cruiseMaxKmh: 46, destinationMismatchHours: 7 * 24 },
  // Freight sits on aprons between flights. Airliners cruise at 800–950 km/h, but eastbound jet streams have pushed
  // ground speeds to 1,289 km/h (VS, Feb 2019) and 1,328 km/h (BA112 JFK→LHR, 9 Feb 2020, Flightradar24):
  // 1,400 km/h is the first speed no real flight reaches. Cargo held for customs at a hub for 2–3 days is common.
  air: { stopMinutes: 12 * 60, maxSpeedKmh: 1400, cruiseMaxKmh: 1000, destinationMismatchHours: 72 },
  // Trucks stop for drivers' rest (9–11 h a day in the EU); 12 h covers a night. EU trucks are limited to 90 km/h
  // (Directive 92/6/EEC), the highest truck limit anywhere is 137 km/h (85 mph, Texas SH 130), freight trains run
  // at ≤ 120–160 km/h: 160 km/h is beyond all of them.
  road: { stopMinutes: 12 * 60, maxSpeedKmh: 160, cruiseMaxKmh: 110, destinationMismatchHours: 48 },
};

/**
 * The radius a destination gets when the shipment does not say: the place, not a region. A data center or a
 * warehouse is a few hundred metres across (5 km covers its campus and a GNSS-noisy gate); an airport's cargo
 * apron lies within 5 km of its reference point; a port's terminals and berths spread over ~15 km.
 */
export function defaultDestinationRadiusKm(mode: 'sea' | 'air' | 'road', isSite = false): number {
  if (isSite) return 2;
  return mode === 'sea' ? 15 : 5;
}

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
    diversionDestinationConeDeg: z.number().min(0).max(90),
    cruiseMaxKmh: z.number().positive().max(5000),
    stopRadiusKm: z.number().positive().max(50),
    stopMinutes: z.number().positive(),
    stopMinutesWatch: z.number().positive(),
    gapIntervals: z.number().min(1).max(100),
    lightLuxThreshold: z.number().min(0),
    maxSpeedKmh: z.number().positive().max(5000),
    frozenFixes: z.number().int().min(2).max(100),
    regularWindowFixes: z.number().int().min(5).max(500),
    destinationMismatchHours: z.number().positive(),
    arrivalDwellMinutes: z.number().min(0),
    overflightMinAltM: z.number().min(0).max(20_000),
    overflightMinSpeedKmh: z.number().min(0).max(5000),
  })
  .partial()
  .strict();
