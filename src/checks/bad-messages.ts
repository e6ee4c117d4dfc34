// SIGNATURE_INVALID, UNKNOWN_KEY, REPLAY as alerts: refused messages on the topic of a registered device or site.
// Anyone may publish on a topic, so one alert per (type, device or site) counts them (`count`, lastSeenAt) instead
// of one alert per message; the rejections themselves are all stored.
import type { AlertType, SubjectEvent } from '../domain/alerts.ts';

export const BAD_MESSAGE_ALERTS: ReadonlySet<string> = new Set<AlertType>([
  'SIGNATURE_INVALID',
  'UNKNOWN_KEY',
  'REPLAY',
]);

export interface RefusedMessage {
  reason: string;
  detail: string;
  deviceId: string | null;
  siteId: string | null;
  kid: string | null;
  seq: number | null;
  receivedAt: number;
}

/**
 * One raise per refused message of an alerting kind on a known subject. `shipmentOf` gives a device's active
 * shipment, so the alert shows on the shipment.
 */
export function badMessageEvents(
  refused: RefusedMessage[],
  knownDevices: ReadonlySet<string>,
  knownSites: ReadonlySet<string>,
  shipmentOf: ReadonlyMap<string, string>,
): SubjectEvent[] {
  const events: SubjectEvent[] = [];
  for (const r of refused) {
    if (!BAD_MESSAGE_ALERTS.has(r.reason)) continue;
    const details = { reason: r.detail, kid: r.kid, seq: r.seq };
    if (r.deviceId && knownDevices.has(r.deviceId)) {
      events.push({
        type: r.reason as AlertType,
        action: 'raise',
        at: r.receivedAt,
        subject: `device:${r.deviceId}`,
        shipmentId: shipmentOf.get(r.deviceId) ?? null,
        deviceId: r.deviceId,
        details,
      });
    } else if (r.siteId && knownSites.has(r.siteId)) {
      events.push({
        type: r.reason as AlertType,
        action: 'raise',
        at: r.receivedAt,
        subject: `site:${r.siteId}`,
        shipmentId: null,
        deviceId: null,
        siteId: r.siteId,
        details,
      });
    }
  }
  return events;
}
