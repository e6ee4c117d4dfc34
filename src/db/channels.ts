// Delivery channels (webhook, e-mail, MQTT) and their deliveries: plain parameterised SQL for the API.
import type { Severity } from '../domain/alerts.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

/** LISTEN/NOTIFY channels: work for dispatchers (new alert events, retried deliveries), and newly numbered events. */
export const NOTIFY_OUTBOX = 'chipwatch_outbox';
export const NOTIFY_STREAM = 'chipwatch_stream';

export type ChannelType = 'webhook' | 'email' | 'mqtt';

export interface ChannelRecord {
  id: string;
  type: ChannelType;
  url: string | null;
  secret: string | null;
  recipients: string[] | null;
  topic: string | null;
  minSeverity: Severity;
  types: string[] | null;
  shipmentIds: string[] | null;
  customers: string[] | null;
  renotifyAfterS: number;
  enabled: boolean;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
}

/** A channels row, possibly selected under a prefix (`ch_id`, `ch_type`…) when joined with other tables. */
// biome-ignore lint/suspicious/noExplicitAny: a pg row
export function channelRecord(r: any, prefix = ''): ChannelRecord {
  const f = (name: string) => r[`${prefix}${name}`];
  return {
    id: f('id'),
    type: f('type'),
    url: f('url'),
    secret: f('secret'),
    recipients: f('recipients'),
    topic: f('topic'),
    minSeverity: f('min_severity'),
    types: f('types'),
    shipmentIds: f('shipment_ids'),
    customers: f('customers'),
    renotifyAfterS: f('renotify_after_s'),
    enabled: f('enabled'),
    createdAt: new Date(f('created_at')).toISOString(),
    createdBy: f('created_by'),
    updatedAt: new Date(f('updated_at')).toISOString(),
  };
}

export type NewChannel = Omit<ChannelRecord, 'createdAt' | 'updatedAt' | 'createdBy'>;

export async function insertChannel(db: Queryable, ch: NewChannel, by: string): Promise<'ok' | 'id_taken'> {
  try {
    await db.query(
      `INSERT INTO channels (id, type, url, secret, recipients, topic, min_severity, types, shipment_ids, customers,
                             renotify_after_s, enabled, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        ch.id,
        ch.type,
        ch.url,
        ch.secret,
        ch.recipients,
        ch.topic,
        ch.minSeverity,
        ch.types,
        ch.shipmentIds,
        ch.customers,
        ch.renotifyAfterS,
        ch.enabled,
        by,
      ],
    );
    return 'ok';
  } catch (e) {
    // A deleted channel keeps its id: its deliveries still refer to it.
    if ((e as { code?: string }).code === '23505') return 'id_taken';
    throw e;
  }
}

export async function getChannel(db: Queryable, id: string): Promise<ChannelRecord | undefined> {
  const res = await db.query('SELECT * FROM channels WHERE id = $1 AND deleted_at IS NULL', [id]);
  return res.rows[0] ? channelRecord(res.rows[0]) : undefined;
}

export async function listChannels(
  db: Queryable,
  q: { limit: number; afterId?: string; type?: string },
): Promise<ChannelRecord[]> {
  const res = await db.query(
    `SELECT * FROM channels WHERE deleted_at IS NULL AND ($2::text IS NULL OR id > $2) AND ($3::text IS NULL OR type = $3)
      ORDER BY id LIMIT $1`,
    [q.limit, q.afterId ?? null, q.type ?? null],
  );
  return res.rows.map((r) => channelRecord(r));
}

export type ChannelPatch = Partial<
  Pick<
    ChannelRecord,
    | 'url'
    | 'secret'
    | 'recipients'
    | 'topic'
    | 'minSeverity'
    | 'types'
    | 'shipmentIds'
    | 'customers'
    | 'renotifyAfterS'
    | 'enabled'
  >
>;

const PATCH_COLUMNS: Record<keyof ChannelPatch, string> = {
  url: 'url',
  secret: 'secret',
  recipients: 'recipients',
  topic: 'topic',
  minSeverity: 'min_severity',
  types: 'types',
  shipmentIds: 'shipment_ids',
  customers: 'customers',
  renotifyAfterS: 'renotify_after_s',
  enabled: 'enabled',
};

/** Sets the given fields (undefined: unchanged; null: cleared); the updated channel, or undefined if none. */
export async function updateChannel(
  db: Queryable,
  id: string,
  patch: ChannelPatch,
): Promise<ChannelRecord | undefined> {
  const sets: string[] = ['updated_at = now()'];
  const values: unknown[] = [id];
  for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof ChannelPatch, string][]) {
    if (patch[field] === undefined) continue;
    values.push(patch[field]);
    sets.push(`${column} = $${values.length}`);
  }
  const res = await db.query(
    `UPDATE channels SET ${sets.join(', ')} WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
    values,
  );
  return res.rows[0] ? channelRecord(res.rows[0]) : undefined;
}

/**
 * Deletes a channel: it is kept (its deliveries refer to it) but hidden and never routed to again; what it still
 * had pending is parked as dead, so nothing waits forever for a channel that is gone.
 */
export async function deleteChannel(c: PoolClient, id: string): Promise<boolean> {
  const res = await c.query(
    'UPDATE channels SET deleted_at = now(), enabled = false, updated_at = now() WHERE id = $1 AND deleted_at IS NULL',
    [id],
  );
  if (res.rowCount === 0) return false;
  await c.query(
    `UPDATE deliveries SET status = 'dead', dead_at = now(), last_error = 'channel deleted'
      WHERE channel_id = $1 AND status = 'pending'`,
    [id],
  );
  await c.query('DELETE FROM delivery_notify_state WHERE channel_id = $1', [id]);
  return true;
}

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
