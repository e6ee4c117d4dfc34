// What every check takes and returns: a fix, the shipment's context, its own state → new state and alert events.
import type { LatLon, RouteIndex, ZoneFilter, ZoneIndex } from '../geo/types.ts';

export type AlertType =
  | 'RESTRICTED_ZONE_ENTERED'
  | 'DIVERSION_TOWARD_RESTRICTED'
  | 'ROUTE_DEVIATION'
  | 'UNPLANNED_STOP'
  | 'SIGNAL_LOST'
  | 'GAP_WITH_DISPLACEMENT'
  | 'TAMPER'
  | 'SPOOFING_SUSPECTED'
  | 'DESTINATION_MISMATCH'
  | 'ATTESTATION_LOCATION_MISMATCH'
  | 'ATTESTATION_RTT_IMPLAUSIBLE'
  | 'CHIP_AT_UNEXPECTED_SITE'
  | 'CHIP_MISSING'
  | 'SIGNATURE_INVALID'
  | 'UNKNOWN_KEY'
  | 'REPLAY';

export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY: Record<AlertType, Severity> = {
  RESTRICTED_ZONE_ENTERED: 'critical',
  DIVERSION_TOWARD_RESTRICTED: 'critical',
  ROUTE_DEVIATION: 'warning',
  UNPLANNED_STOP: 'warning',
  SIGNAL_LOST: 'warning',
  GAP_WITH_DISPLACEMENT: 'warning',
  TAMPER: 'critical',
  SPOOFING_SUSPECTED: 'critical',
  DESTINATION_MISMATCH: 'critical',
  ATTESTATION_LOCATION_MISMATCH: 'critical',
  ATTESTATION_RTT_IMPLAUSIBLE: 'critical',
  CHIP_AT_UNEXPECTED_SITE: 'critical',
  CHIP_MISSING: 'warning',
  SIGNATURE_INVALID: 'warning',
  UNKNOWN_KEY: 'warning',
  REPLAY: 'warning',
};

/**
 * Alert types whose `details.serials` accumulate over the alert's life (every serial found at the wrong site stays
 * named), where other types keep the latest evidence's details (CHIP_MISSING names the serials missing now).
 */
export const ACCUMULATES_SERIALS: ReadonlySet<AlertType> = new Set<AlertType>(['CHIP_AT_UNEXPECTED_SITE']);

/** A telemetry record as the checks see it (epoch ms). */
export interface Fix extends LatLon {
  ts: number;
  speedKmh?: number;
  headingDeg?: number;
  hdop?: number;
  satellites?: number;
  lightLux?: number;
  tamper?: boolean;
}

export interface AlertEvent {
  type: AlertType;
  /** raise: open or update the one open alert of this type; resolve: close it if open (a no-op otherwise). */
  action: 'raise' | 'resolve';
  /** Device time of the evidence. */
  at: number;
  details: Record<string, unknown>;
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
  stopRadiusKm: number;
  stopMinutes: number;
  stopMinutesWatch: number;
  gapIntervals: number;
  lightLuxThreshold: number;
  maxSpeedKmh: number;
  frozenFixes: number;
  destinationMismatchHours: number;
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
