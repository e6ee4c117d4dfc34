// The alert outbox in SQL, one operation per function: alert_events (what changed, snapshotted at commit),
// deliveries (one per event and channel) and delivery_notify_state. What each step promises, and what can be lost
// when, is written in src/delivery/outbox.ts.
import type { AlertAction, Severity } from '../domain/alerts.ts';
import { type ChannelRecord, channelRecord, NOTIFY_OUTBOX, NOTIFY_STREAM } from './channels.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface OutboxChange {
  /** The alert's id. */
  id: number;
  action: AlertAction;
  actor?: string | null;
  note?: string | null;
}

/** An outbox row as the dispatcher and the stream read it. */
export interface OutboxEvent {
  seq: number;
  action: AlertAction;
  actor: string | null;
  note: string | null;
  late: boolean;
  createdAt: Date;
  /** `to_jsonb(alerts)` at commit: snake_case columns, times as strings. */
  alert: Record<string, unknown>;
}

/** Writes one outbox row per change, in order, inside the caller's transaction `c`; wakes the dispatchers at commit. */
export async function enqueueAlertEvents(c: PoolClient, changes: readonly OutboxChange[]): Promise<void> {
  if (changes.length === 0) return;
  await c.query(
    `WITH ins AS (
       INSERT INTO alert_events (alert_id, action, actor, note, alert)
       SELECT ch.alert_id, ch.action, ch.actor, ch.note, to_jsonb(a)
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
              WITH ORDINALITY AS ch(alert_id, action, actor, note, ord)
         JOIN alerts a ON a.id = ch.alert_id
        ORDER BY ch.ord
       RETURNING 1)
     SELECT pg_notify($5, 'event') FROM (SELECT count(*) FROM ins) n`,
    [
      changes.map((x) => x.id),
      changes.map((x) => x.action),
      changes.map((x) => x.actor ?? null),
      changes.map((x) => x.note ?? null),
      NOTIFY_OUTBOX,
    ],
  );
}

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

export interface ClaimedDelivery {
  id: string;
  /** This attempt's number (1 for the first); never reused, so a late result cannot overwrite a newer one. */
  attempt: number;
  /** Its number within the current attempt budget (a manual retry starts a new budget). */
  budgetAttempt: number;
  channel: ChannelRecord;
  event: OutboxEvent;
}

/** Takes up to `batch` due deliveries of enabled channels (FOR UPDATE SKIP LOCKED); each is `workerId`'s for `leaseMs`. */
export async function claimDeliveries(
  db: Queryable,
  opts: { batch: number; leaseMs: number; workerId: string },
): Promise<ClaimedDelivery[]> {
  const res = await db.query(
    `WITH due AS (
       SELECT d.id FROM deliveries d JOIN channels ch ON ch.id = d.channel_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND ch.enabled AND ch.deleted_at IS NULL
        ORDER BY d.next_attempt_at, d.id LIMIT $1
        FOR UPDATE OF d SKIP LOCKED),
     claimed AS (
       UPDATE deliveries d SET attempts = d.attempts + 1, claimed_by = $3,
              next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.attempts, d.attempts_before_retry, d.event_id, d.channel_id)
     SELECT claimed.id, claimed.attempts, claimed.attempts_before_retry, e.seq, e.action, e.actor, e.note, e.late, e.created_at, e.alert,
            to_jsonb(ch) AS channel
       FROM claimed JOIN alert_events e ON e.id = claimed.event_id JOIN channels ch ON ch.id = claimed.channel_id`,
    [opts.batch, opts.leaseMs, opts.workerId],
  );
  return res.rows.map((r) => ({
    id: r.id,
    attempt: r.attempts,
    budgetAttempt: r.attempts - r.attempts_before_retry,
    channel: channelRecord(r.channel),
    event: outboxEvent(r),
  }));
}

/** The outcome of one claimed attempt, as stored. */
export interface DeliveryOutcome {
  id: string;
  /** The attempt claimed: the row is written only if it is still at it and pending. */
  attempt: number;
  status: 'delivered' | 'pending' | 'dead';
  /** Until the next attempt (pending). */
  delayMs: number;
  /** The error, or for a delivered row the note worth keeping. */
  error: string | null;
  httpStatus: number | null;
}

/** Records the outcomes of claimed attempts in one statement. */
export async function completeDeliveries(db: Queryable, done: readonly DeliveryOutcome[]): Promise<void> {
  if (done.length === 0) return;
  await db.query(
    `UPDATE deliveries d SET
        status = u.status,
        delivered_at = CASE WHEN u.status = 'delivered' THEN now() ELSE d.delivered_at END,
        dead_at = CASE WHEN u.status = 'dead' THEN now() END,
        next_attempt_at = CASE WHEN u.status = 'pending' THEN now() + u.delay_ms * interval '1 millisecond'
                               ELSE d.next_attempt_at END,
        last_error = u.error,
        last_status = u.http_status
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::float8[], $5::text[], $6::int[])
            AS u(id, attempt, status, delay_ms, error, http_status)
      WHERE d.id = u.id AND d.attempts = u.attempt AND d.status = 'pending'`,
    [
      done.map((x) => x.id),
      done.map((x) => x.attempt),
      done.map((x) => x.status),
      done.map((x) => x.delayMs),
      done.map((x) => x.error),
      done.map((x) => x.httpStatus),
    ],
  );
}

export interface Backlog {
  /** Events committed but not routed yet. */
  unrouted: number;
  /** Deliveries waiting for (another) attempt. */
  pending: number;
  dead: number;
}

export async function outboxBacklog(db: Queryable): Promise<Backlog> {
  const res = await db.query(
    `SELECT (SELECT count(*) FROM alert_events WHERE seq IS NULL) AS unrouted,
            (SELECT count(*) FROM deliveries WHERE status = 'pending') AS pending,
            (SELECT count(*) FROM deliveries WHERE status = 'dead') AS dead`,
  );
  const r = res.rows[0];
  return { unrouted: Number(r.unrouted), pending: Number(r.pending), dead: Number(r.dead) };
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function outboxEvent(r: any): OutboxEvent {
  return {
    seq: Number(r.seq),
    action: r.action,
    actor: r.actor,
    note: r.note,
    late: r.late === true,
    createdAt: r.created_at,
    alert: r.alert,
  };
}

/** Numbered events after `afterSeq`, in order: what an SSE client that saw `afterSeq` has missed. */
export async function eventsAfter(db: Queryable, afterSeq: number, limit: number): Promise<OutboxEvent[]> {
  const res = await db.query(
    `SELECT seq, action, actor, note, late, created_at, alert FROM alert_events
      WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  );
  return res.rows.map(outboxEvent);
}

/** The newest stream position (0 when nothing was numbered yet). */
export async function latestSeq(db: Queryable): Promise<number> {
  const res = await db.query('SELECT coalesce(max(seq), 0) AS seq FROM alert_events');
  return Number(res.rows[0].seq);
}

/** Deletes delivered notifications older than `days`; returns how many. */
export async function pruneDelivered(db: Queryable, days: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM deliveries WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => $1)`,
    [days],
  );
  return res.rowCount ?? 0;
}

/** Deletes outbox events routed and older than `days` that have no delivery left; returns how many. */
export async function pruneEvents(db: Queryable, days: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM alert_events e
      WHERE e.seq IS NOT NULL AND e.created_at < now() - make_interval(days => $1)
        AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.event_id = e.id)`,
    [days],
  );
  return res.rowCount ?? 0;
}
