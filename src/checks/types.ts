// What every check takes and returns: a fix, the shipment's context, its own state → new state and alert events.
import type { AlertEvent } from '../domain/alerts.ts';
import type { LatLon, RouteIndex, ZoneFilter, ZoneIndex } from '../geo/types.ts';

/** A telemetry record as the checks see it (epoch ms). */
export interface Fix extends LatLon {
  ts: number;
  /** Altitude above sea level, metres (aircraft: tells a cruise from a descent). */
  altM?: number;
  speedKmh?: number;
  headingDeg?: number;
  hdop?: number;
  satellites?: number;
  lightLux?: number;
  tamper?: boolean;
}

export interface Place extends LatLon {
  name?: string;
  radiusKm: number;
}

/** Thresholds, each overridable per shipment (`params`) or globally; defaults in `params.ts`. */
export interface CheckParams {
  deviationMinFixes: number;
  deviationMinMinutes: number;
  deviationClearMinutes: number;
  diversionHorizonHours: number;
  diversionWindowFixes: number;
  diversionMaxCourseSpreadDeg: number;
  diversionApproachMinKm: number;
  /** A held course within this angle of the bearing to the destination is heading there, not diverting. */
  diversionDestinationConeDeg: number;
  /** The fastest the mode plausibly travels for hours on end: bounds the look-ahead. */
  cruiseMaxKmh: number;
  stopRadiusKm: number;
  stopMinutes: number;
  stopMinutesWatch: number;
  gapIntervals: number;
  lightLuxThreshold: number;
  maxSpeedKmh: number;
  frozenFixes: number;
  /** Fixes over which a track with no GNSS noise, constant speed, hdop and satellites is too regular to be real. */
  regularWindowFixes: number;
  destinationMismatchHours: number;
  /** Stopped this long inside the destination radius: arrived (a pass-by is not an arrival). */
  arrivalDwellMinutes: number;
  /** Aircraft: at or above this altitude and ground speed on the planned corridor, a restricted country is overflown. */
  overflightMinAltM: number;
  overflightMinSpeedKmh: number;
}

export interface ShipmentContext {
  shipmentId: string;
  mode: 'sea' | 'air' | 'road';
  origin: Place;
  destination: Place;
  plannedStops: Place[];
  corridorKm: number;
  reportIntervalS: number;
  route: RouteIndex;
  zones: ZoneIndex;
  /** Zones this shipment must never enter: the restricted tier (or the shipment's own list) and restricted custom zones. */
  isRestricted: ZoneFilter;
  /** Licence-required zones no licence of the shipment covers: entering one off the planned corridor alerts. */
  isUnlicensed: ZoneFilter;
  /** Transshipment hubs: stops there alert sooner. */
  isWatch: ZoneFilter;
  params: CheckParams;
}

export interface CheckResult<S> {
  state: S;
  events: AlertEvent[];
  /** Flags stored on the fix (e.g. SPEED_IMPOSSIBLE): suspect fixes are kept and marked, never dropped. */
  flags?: string[];
}
