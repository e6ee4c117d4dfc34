// The alert outbox in SQL, one operation per function: alert_events (what changed, snapshotted at commit) and
// deliveries (one per event and channel); the router's statements are in outbox-routing.ts. What each step
// promises, and what can be lost when, is written in src/delivery/outbox.ts.
import type { AlertAction } from '../domain/alerts.ts';
import { type ChannelRecord, channelRecord, NOTIFY_OUTBOX } from './channels.ts';
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
