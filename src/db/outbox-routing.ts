// The outbox router's statements, one operation per function, all run in the router's one transaction
// (src/delivery/outbox.ts, routeEvents): lock, read unrouted events and what routing needs, number them, write
// deliveries and notify states, wake the streams and dispatchers at commit.
import type { AlertAction, Severity } from '../domain/alerts.ts';
import { type ChannelRecord, channelRecord, NOTIFY_OUTBOX, NOTIFY_STREAM } from './channels.ts';
import type { PoolClient } from './pool.ts';

// Any constant no other part of chipwatch uses as an advisory lock key (node-pg-migrate uses its own).
const ROUTER_LOCK_KEY = 0x63770004;

/** Takes the router lock for this transaction; false when another process holds it. */
export async function tryLockRouter(c: PoolClient): Promise<boolean> {
  const res = await c.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [ROUTER_LOCK_KEY]);
  return res.rows[0].ok === true;
}

/** An outbox event not numbered yet, with what routing needs of its alert and shipment. */
export interface UnroutedEvent {
  id: number;
  alertId: number;
  action: AlertAction;
  type: string;
  severity: Severity;
  shipmentId: string | null;
  customer: string | null;
  createdAtMs: number;
  lastEvidenceAtMs: number | null;
}

/** Up to `limit` unrouted events, oldest first. */
export async function unroutedEvents(c: PoolClient, limit: number): Promise<UnroutedEvent[]> {
  const res = await c.query(
    `SELECT e.id, e.alert_id, e.action, e.created_at, s.customer, e.alert->>'type' AS type,
            e.alert->>'severity' AS severity, e.alert->>'shipment_id' AS shipment_id,
            (e.alert->>'last_evidence_at')::timestamptz AS last_evidence_at
       FROM alert_events e LEFT JOIN shipments s ON s.id = e.alert->>'shipment_id'
      WHERE e.seq IS NULL ORDER BY e.id LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => ({
    id: r.id,
    alertId: r.alert_id,
    action: r.action,
    type: r.type,
    severity: r.severity,
    shipmentId: r.shipment_id,
    customer: r.customer,
    createdAtMs: r.created_at.getTime(),
    lastEvidenceAtMs: r.last_evidence_at?.getTime() ?? null,
  }));
}

/** The channels that can receive notifications: enabled and not deleted. */
export async function routableChannels(c: PoolClient): Promise<ChannelRecord[]> {
  const res = await c.query('SELECT * FROM channels WHERE enabled AND deleted_at IS NULL');
  return res.rows.map((r) => channelRecord(r));
}

/** When each channel was last notified of an alert, and at what severity. */
export interface NotifyStateRow {
  channelId: string;
  alertId: number;
  lastNotifiedAtMs: number;
  lastSeverity: Severity;
}

/** The notify states of these alerts, for every channel. */
export async function notifyStates(c: PoolClient, alertIds: readonly number[]): Promise<NotifyStateRow[]> {
  const res = await c.query(
    `SELECT channel_id, alert_id, last_notified_at, last_severity FROM delivery_notify_state
      WHERE alert_id = ANY($1::bigint[])`,
    [alertIds],
  );
  return res.rows.map((r) => ({
    channelId: r.channel_id,
    alertId: r.alert_id,
    lastNotifiedAtMs: r.last_notified_at.getTime(),
    lastSeverity: r.last_severity,
  }));
}

/** Numbers routed events (their stream position) and marks the late ones. */
export async function numberEvents(
  c: PoolClient,
  events: readonly { id: number; seq: number; late: boolean }[],
): Promise<void> {
  await c.query(
    `UPDATE alert_events e SET seq = u.seq, late = u.late, routed_at = now()
       FROM unnest($1::bigint[], $2::bigint[], $3::boolean[]) AS u(id, seq, late) WHERE e.id = u.id`,
    [events.map((e) => e.id), events.map((e) => e.seq), events.map((e) => e.late)],
  );
}

/** One pending delivery per (event, channel); one already there is kept. */
export async function insertDeliveries(
  c: PoolClient,
  deliveries: readonly { eventId: number; channelId: string }[],
): Promise<void> {
  if (deliveries.length === 0) return;
  await c.query(
    `INSERT INTO deliveries (event_id, channel_id)
     SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (event_id, channel_id) DO NOTHING`,
    [deliveries.map((d) => d.eventId), deliveries.map((d) => d.channelId)],
  );
}

/** Forgets the notify states of alerts that ended. */
export async function deleteNotifyStates(c: PoolClient, alertIds: readonly number[]): Promise<void> {
  if (alertIds.length === 0) return;
  await c.query('DELETE FROM delivery_notify_state WHERE alert_id = ANY($1::bigint[])', [alertIds]);
}

export async function upsertNotifyStates(c: PoolClient, states: readonly NotifyStateRow[]): Promise<void> {
  if (states.length === 0) return;
  await c.query(
    `INSERT INTO delivery_notify_state (channel_id, alert_id, last_notified_at, last_severity)
     SELECT c, a, to_timestamp(t / 1000.0), s FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[]) AS u(c, a, t, s)
     ON CONFLICT (alert_id, channel_id)
     DO UPDATE SET last_notified_at = EXCLUDED.last_notified_at, last_severity = EXCLUDED.last_severity`,
    [
      states.map((n) => n.channelId),
      states.map((n) => n.alertId),
      states.map((n) => n.lastNotifiedAtMs),
      states.map((n) => n.lastSeverity),
    ],
  );
}

/** At commit, tells SSE streams and dispatchers that events up to `lastSeq` are numbered. */
export async function notifyRouted(c: PoolClient, lastSeq: number): Promise<void> {
  await c.query('SELECT pg_notify($1, $3), pg_notify($2, $3)', [
    NOTIFY_STREAM,
    NOTIFY_OUTBOX,
    String(lastSeq),
  ]);
}
