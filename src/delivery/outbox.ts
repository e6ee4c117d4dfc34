// The alert outbox, in SQL. What is promised, and what can be lost when:
// - enqueue: an alert change and its outbox row commit in one transaction (the caller's), so a notification
//   exists exactly when the change does; a crash before commit loses both, after commit neither.
// - route: one router at a time (advisory lock) numbers committed rows (`seq`, the SSE id, in commit order of the
//   router's transactions), marks late ones and writes one delivery per (event, matching channel) — one
//   transaction, so a crash re-routes the whole batch later, never half of it.
// - claim: dispatchers take due deliveries with FOR UPDATE SKIP LOCKED and push their due time one lease ahead,
//   then send outside any transaction. A dispatcher dying mid-send leaves the row to be claimed again when the
//   lease ends: the receiver may get it twice (same X-Chipwatch-Delivery id: at least once, deduped by the id).
// - complete: the result is written only if the row is still at the attempt this dispatcher claimed, so a stale
//   dispatcher (lease expired, row re-claimed) cannot overwrite a newer outcome.
import { type ChannelRecord, channelRecord, NOTIFY_OUTBOX, NOTIFY_STREAM } from '../db/channels.ts';
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import type { OutboxEvent } from './payload.ts';
import type { NextStep } from './retry.ts';
import { type AlertAction, type NotifyState, planRouting, type RoutingEvent, stateKey } from './routing.ts';

type Queryable = Pool | PoolClient;

export interface OutboxChange {
  /** The alert's id. */
  id: number;
  action: AlertAction;
  actor?: string | null;
  note?: string | null;
}

/** Writes one outbox row per change, inside the caller's transaction `c`; wakes the dispatchers at commit. */
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

/**
 * Routes up to `batch` unrouted events; `busy` when another process holds the router lock (it will do the work).
 */
export async function routeEvents(
  pool: Pool,
  opts: { batch: number; lateAfterS: number },
): Promise<{ routed: number; deliveries: number; busy: boolean }> {
  return withTransaction(pool, async (c) => {
    const lock = await c.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [ROUTER_LOCK_KEY]);
    if (!lock.rows[0].ok) return { routed: 0, deliveries: 0, busy: true };
    const ev = await c.query(
      `SELECT e.id, e.alert_id, e.action, e.created_at, s.customer, e.alert->>'type' AS type,
              e.alert->>'severity' AS severity, e.alert->>'shipment_id' AS shipment_id,
              (e.alert->>'last_evidence_at')::timestamptz AS last_evidence_at
         FROM alert_events e LEFT JOIN shipments s ON s.id = e.alert->>'shipment_id'
        WHERE e.seq IS NULL ORDER BY e.id LIMIT $1`,
      [opts.batch],
    );
    if (ev.rows.length === 0) return { routed: 0, deliveries: 0, busy: false };
    const events: RoutingEvent[] = ev.rows.map((r) => ({
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
    const channels = (await c.query('SELECT * FROM channels WHERE enabled AND deleted_at IS NULL')).rows.map(
      (r) => channelRecord(r),
    );
    const st = await c.query(
      `SELECT channel_id, alert_id, last_notified_at, last_severity FROM delivery_notify_state
        WHERE alert_id = ANY($1::bigint[])`,
      [[...new Set(events.map((e) => e.alertId))]],
    );
    const states = new Map<string, NotifyState>(
      st.rows.map((r) => [
        stateKey(r.channel_id, r.alert_id),
        { lastNotifiedAtMs: r.last_notified_at.getTime(), lastSeverity: r.last_severity },
      ]),
    );
    // Safe under the router lock: every numbered row is committed, and no one else numbers.
    const top = await c.query('SELECT coalesce(max(seq), 0) AS seq FROM alert_events');
    const plan = planRouting(events, channels, states, {
      firstSeq: Number(top.rows[0].seq) + 1,
      lateAfterS: opts.lateAfterS,
    });
    await c.query(
      `UPDATE alert_events e SET seq = u.seq, late = u.late, routed_at = now()
         FROM unnest($1::bigint[], $2::bigint[], $3::boolean[]) AS u(id, seq, late) WHERE e.id = u.id`,
      [plan.events.map((e) => e.id), plan.events.map((e) => e.seq), plan.events.map((e) => e.late)],
    );
    if (plan.deliveries.length > 0) {
      await c.query(
        `INSERT INTO deliveries (event_id, channel_id)
         SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT (event_id, channel_id) DO NOTHING`,
        [plan.deliveries.map((d) => d.eventId), plan.deliveries.map((d) => d.channelId)],
      );
    }
    if (plan.endedAlertIds.length > 0) {
      await c.query('DELETE FROM delivery_notify_state WHERE alert_id = ANY($1::bigint[])', [
        plan.endedAlertIds,
      ]);
    }
    const notified = [...plan.notified.values()];
    if (notified.length > 0) {
      await c.query(
        `INSERT INTO delivery_notify_state (channel_id, alert_id, last_notified_at, last_severity)
         SELECT c, a, to_timestamp(t / 1000.0), s FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[]) AS u(c, a, t, s)
         ON CONFLICT (alert_id, channel_id)
         DO UPDATE SET last_notified_at = EXCLUDED.last_notified_at, last_severity = EXCLUDED.last_severity`,
        [
          notified.map((n) => n.channelId),
          notified.map((n) => n.alertId),
          notified.map((n) => n.lastNotifiedAtMs),
          notified.map((n) => n.lastSeverity),
        ],
      );
    }
    const lastSeq = String(plan.events.at(-1)!.seq);
    await c.query('SELECT pg_notify($1, $3), pg_notify($2, $3)', [NOTIFY_STREAM, NOTIFY_OUTBOX, lastSeq]);
    return { routed: events.length, deliveries: plan.deliveries.length, busy: false };
  });
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

/** Takes up to `batch` due deliveries of enabled channels; each is this dispatcher's for `leaseMs`. */
export async function claimDeliveries(
  pool: Pool,
  opts: { batch: number; leaseMs: number; workerId: string },
): Promise<ClaimedDelivery[]> {
  const res = await pool.query(
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

export interface Completion {
  id: string;
  attempt: number;
  step: NextStep;
}

/** Records the outcome of claimed attempts in one statement. */
export async function completeDeliveries(pool: Pool, done: Completion[]): Promise<void> {
  if (done.length === 0) return;
  await pool.query(
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
      done.map((x) => x.step.status),
      done.map((x) => (x.step.status === 'pending' ? x.step.delayMs : 0)),
      done.map((x) => (x.step.status === 'delivered' ? (x.step.note ?? null) : x.step.error.slice(0, 2000))),
      done.map((x) => (x.step.status === 'delivered' ? null : (x.step.httpStatus ?? null))),
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

/**
 * Retention: delivered notifications older than `days`, then outbox events that are routed, as old, and have no
 * delivery left (dead ones are kept until retried or their channel is gone), are deleted. Alerts and their audit
 * trail — the evidence — are never touched. An SSE client resuming from an event older than this starts at the
 * oldest one kept.
 */
export async function pruneOutbox(pool: Pool, days: number): Promise<{ deliveries: number; events: number }> {
  const d = await pool.query(
    `DELETE FROM deliveries WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => $1)`,
    [days],
  );
  const e = await pool.query(
    `DELETE FROM alert_events e
      WHERE e.seq IS NOT NULL AND e.created_at < now() - make_interval(days => $1)
        AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.event_id = e.id)`,
    [days],
  );
  return { deliveries: d.rowCount ?? 0, events: e.rowCount ?? 0 };
}
