// Alerts as every layer speaks of them: the closed set of types and severities, a check's event, a stored change, the API view.

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

export interface AlertEvent {
  type: AlertType;
  /** raise: open or update the one open alert of this type; resolve: close it if open (a no-op otherwise). */
  action: 'raise' | 'resolve';
  /** Device time of the evidence. */
  at: number;
  details: Record<string, unknown>;
}

export interface SubjectEvent extends AlertEvent {
  subject: string;
  shipmentId: string | null;
  deviceId: string | null;
  siteId?: string | null;
}

/** What happened to an alert, as its outbox event and audit trail name it. */
export type AlertAction = 'opened' | 'updated' | 'acknowledged' | 'resolved' | 'auto_resolved';

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface AlertChange {
  id: number;
  type: AlertType;
  action: 'opened' | 'updated' | 'auto_resolved';
}

export interface AlertView {
  id: string;
  type: AlertType;
  severity: Severity;
  status: AlertStatus;
  shipmentId: string | null;
  deviceId: string | null;
  siteId: string | null;
  openedAt: string;
  lastSeenAt: string;
  firstEvidenceAt: string | null;
  lastEvidenceAt: string | null;
  count: number;
  details: Record<string, unknown>;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}
