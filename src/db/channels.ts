// Delivery channels (webhook, e-mail, MQTT) with their routing filters: plain parameterised SQL for the API.
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
