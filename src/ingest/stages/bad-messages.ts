// SIGNATURE_INVALID, UNKNOWN_KEY and REPLAY on the topic of a registered device or site become alert events
// (the rule is pure, src/checks/bad-messages.ts); this stage reads which senders are registered.
import { BAD_MESSAGE_ALERTS, badMessageEvents } from '../../checks/bad-messages.ts';
import { knownSenders } from '../../db/devices.ts';
import type { RejectionRow } from '../../db/ingest-store.ts';
import type { PoolClient } from '../../db/pool.ts';
import type { SubjectEvent } from '../../domain/alerts.ts';

export async function badMessageAlerts(c: PoolClient, rejections: RejectionRow[]): Promise<SubjectEvent[]> {
  const bad = rejections.filter((r) => BAD_MESSAGE_ALERTS.has(r.reason));
  if (bad.length === 0) return [];
  const known = await knownSenders(
    c,
    [...new Set(bad.flatMap((r) => (r.deviceId ? [r.deviceId] : [])))],
    [...new Set(bad.flatMap((r) => (r.siteId ? [r.siteId] : [])))],
  );
  return badMessageEvents(bad, known.devices, known.sites, known.shipmentOf);
}
