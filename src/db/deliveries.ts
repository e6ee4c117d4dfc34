// Deliveries to the channels as the API shows them, and the manual retry of a dead one.
import { type ChannelType, NOTIFY_OUTBOX } from './channels.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface DeliveryView {
  id: string;
  channelId: string;
  channelType: ChannelType;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  eventId: number | null;
  alertId: string;
  alertType: string;
  action: string;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  deadAt: string | null;
  lastError: string | null;
  lastStatus: number | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function deliveryView(r: any): DeliveryView {
  return {
    id: r.id,
    channelId: r.channel_id,
    channelType: r.channel_type,
    status: r.status,
    attempts: r.attempts,
    eventId: r.seq,
    alertId: String(r.alert_id),
    alertType: r.alert_type,
    action: r.action,
    createdAt: r.created_at.toISOString(),
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    deliveredAt: r.delivered_at?.toISOString() ?? null,
    deadAt: r.dead_at?.toISOString() ?? null,
    lastError: r.last_error,
    lastStatus: r.last_status,
  };
}

const DELIVERY_SELECT = `
  SELECT d.*, ch.type AS channel_type, e.seq, e.alert_id, e.action, e.alert->>'type' AS alert_type
    FROM deliveries d JOIN channels ch ON ch.id = d.channel_id JOIN alert_events e ON e.id = d.event_id`;

/** Newest first, keyset-paginated by (created_at, id). */
export async function listDeliveries(
  db: Queryable,
  q: { channelId?: string; status?: string; limit: number; before?: [string, string] },
): Promise<DeliveryView[]> {
  const res = await db.query(
    `${DELIVERY_SELECT}
      WHERE ($1::text IS NULL OR d.channel_id = $1) AND ($2::text IS NULL OR d.status = $2)
        -- The cursor carries milliseconds and every delivery of one routing pass shares its created_at: compare
        -- at millisecond precision, or the rest of a pass sharing the cursor's millisecond would be skipped.
        AND ($4::timestamptz IS NULL OR (date_trunc('milliseconds', d.created_at), d.id) < ($4::timestamptz, $5::uuid))
      ORDER BY date_trunc('milliseconds', d.created_at) DESC, d.id DESC LIMIT $3`,
    [q.channelId ?? null, q.status ?? null, q.limit, q.before?.[0] ?? null, q.before?.[1] ?? null],
  );
  return res.rows.map(deliveryView);
}

export async function getDelivery(db: Queryable, id: string): Promise<DeliveryView | undefined> {
  const res = await db.query(`${DELIVERY_SELECT} WHERE d.id = $1`, [id]);
  return res.rows[0] ? deliveryView(res.rows[0]) : undefined;
}

/**
 * Puts a dead delivery back in the queue with a fresh attempt budget (same id: the receiver can still dedupe);
 * wakes the dispatchers.
 */
export async function retryDelivery(
  c: PoolClient,
  id: string,
): Promise<'ok' | 'not_found' | 'not_dead' | 'channel_deleted'> {
  const cur = await c.query(
    `SELECT d.status, ch.deleted_at FROM deliveries d JOIN channels ch ON ch.id = d.channel_id
      WHERE d.id = $1 FOR UPDATE OF d`,
    [id],
  );
  const row = cur.rows[0] as { status: string; deleted_at: Date | null } | undefined;
  if (!row) return 'not_found';
  if (row.status !== 'dead') return 'not_dead';
  if (row.deleted_at) return 'channel_deleted';
  await c.query(
    `UPDATE deliveries SET status = 'pending', attempts_before_retry = attempts, next_attempt_at = now(), dead_at = NULL
      WHERE id = $1`,
    [id],
  );
  await c.query('SELECT pg_notify($1, $2)', [NOTIFY_OUTBOX, 'retry']);
  return 'ok';
}
