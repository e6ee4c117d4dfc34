// /v1/channels and /v1/deliveries (admin): alert delivery channels — webhook, e-mail, MQTT — with their routing
// filters, and the deliveries made to them, dead ones included, with a manual retry.
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { type AlertType, SEVERITY } from '../../checks/types.ts';
import {
  type ChannelPatch,
  type ChannelRecord,
  deleteChannel,
  getChannel,
  getDelivery,
  insertChannel,
  listChannels,
  listDeliveries,
  retryDelivery,
  updateChannel,
} from '../../db/channels.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { jsonBody, query } from '../validate.ts';

const channelId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'ids are 1–128 of A–Z a–z 0–9 . _ : -');
const alertType = z.enum(Object.keys(SEVERITY) as [AlertType, ...AlertType[]]);
const severity = z.enum(['info', 'warning', 'critical']);
const webhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2000);
const webhookSecret = z.string().min(16, 'at least 16 characters').max(256);
const recipients = z.array(z.email()).min(1).max(50);
const topic = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^#+]*[^/#+]$/, 'an MQTT topic without wildcards or a trailing slash');
/** null or absent: no filter. */
const filter = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(1000).nullable().optional();

const routing = {
  minSeverity: severity.default('info'),
  types: filter(alertType),
  shipmentIds: filter(channelId),
  customers: filter(z.string().min(1).max(200)),
  renotifyAfterS: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(3600),
  enabled: z.boolean().default(true),
};

/** POST /v1/channels. A webhook without `secret` gets a generated one, returned once in the answer. */
export const channelBody = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    id: channelId.optional(),
    url: webhookUrl,
    secret: webhookSecret.optional(),
    ...routing,
  }),
  z.strictObject({ type: z.literal('email'), id: channelId.optional(), to: recipients, ...routing }),
  z.strictObject({ type: z.literal('mqtt'), id: channelId.optional(), topic: topic.optional(), ...routing }),
]);

/** PATCH /v1/channels/{id}: the fields to change (null clears a filter); type-specific fields only on their type. */
export const channelPatch = z.strictObject({
  url: webhookUrl.optional(),
  secret: webhookSecret.optional(),
  to: recipients.optional(),
  topic: topic.nullable().optional(),
  minSeverity: severity.optional(),
  types: filter(alertType),
  shipmentIds: filter(channelId),
  customers: filter(z.string().min(1).max(200)),
  renotifyAfterS: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .optional(),
  enabled: z.boolean().optional(),
});

export const channelsQuery = z.object({
  type: z.enum(['webhook', 'email', 'mqtt']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(1000).optional(),
});

export const deliveriesQuery = z.object({
  status: z.enum(['pending', 'delivered', 'dead']).optional(),
  channelId: channelId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(1000).optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The API view: never the webhook secret, only that one is set. */
export function channelView(ch: ChannelRecord) {
  return {
    id: ch.id,
    type: ch.type,
    ...(ch.type === 'webhook' ? { url: ch.url, secretSet: ch.secret !== null } : {}),
    ...(ch.type === 'email' ? { to: ch.recipients ?? [] } : {}),
    ...(ch.type === 'mqtt' ? { topic: ch.topic } : {}),
    minSeverity: ch.minSeverity,
    types: ch.types,
    shipmentIds: ch.shipmentIds,
    customers: ch.customers,
    renotifyAfterS: ch.renotifyAfterS,
    enabled: ch.enabled,
    createdAt: ch.createdAt,
    createdBy: ch.createdBy,
    updatedAt: ch.updatedAt,
  };
}

export function channelsRouter(db: Pool) {
  const r = new Hono<AppEnv>();

  r.post('/', requireRole('admin'), async (c) => {
    const b = await jsonBody(c, channelBody);
    const id = b.id ?? `ch-${randomBytes(6).toString('hex')}`;
    const generatedSecret =
      b.type === 'webhook' && !b.secret ? randomBytes(32).toString('base64url') : undefined;
    const outcome = await insertChannel(
      db,
      {
        id,
        type: b.type,
        url: b.type === 'webhook' ? b.url : null,
        secret: b.type === 'webhook' ? (b.secret ?? generatedSecret!) : null,
        recipients: b.type === 'email' ? b.to : null,
        topic: b.type === 'mqtt' ? (b.topic ?? null) : null,
        minSeverity: b.minSeverity,
        types: b.types ?? null,
        shipmentIds: b.shipmentIds ?? null,
        customers: b.customers ?? null,
        renotifyAfterS: b.renotifyAfterS,
        enabled: b.enabled,
      },
      c.get('principal').sub,
    );
    if (outcome === 'id_taken')
      throw new AppError('CONFLICT', `channel ${id} exists (or existed): pick another id`);
    const view = channelView((await getChannel(db, id))!);
    // The one time a secret is shown: the receiver needs it to verify signatures.
    return c.json(generatedSecret ? { ...view, secret: generatedSecret } : view, 201, {
      Location: `/v1/channels/${id}`,
    });
  });

  r.get('/', requireRole('admin'), async (c) => {
    const q = query(c, channelsQuery);
    const after = decodeCursor(q.cursor, 1)?.[0] as string | undefined;
    const rows = await listChannels(db, { limit: q.limit, afterId: after, type: q.type });
    return c.json(page(rows, q.limit, channelView, (ch) => [ch.id]));
  });

  const load = async (id: string) => {
    const ch = await getChannel(db, id);
    if (!ch) throw new AppError('NOT_FOUND', `no channel ${id}`);
    return ch;
  };

  r.get('/:id', requireRole('admin'), async (c) => c.json(channelView(await load(c.req.param('id')))));

  r.patch('/:id', requireRole('admin'), async (c) => {
    const ch = await load(c.req.param('id'));
    const b = await jsonBody(c, channelPatch);
    const foreign = (
      [
        ['url', 'webhook'],
        ['secret', 'webhook'],
        ['to', 'email'],
        ['topic', 'mqtt'],
      ] as const
    ).filter(([field, type]) => b[field] !== undefined && ch.type !== type);
    if (foreign.length > 0) {
      const [field, type] = foreign[0]!;
      throw new AppError(
        'VALIDATION_FAILED',
        `${field}: only a ${type} channel has it; this one is ${ch.type}`,
      );
    }
    const patch: ChannelPatch = {
      url: b.url,
      secret: b.secret,
      recipients: b.to,
      topic: b.topic,
      minSeverity: b.minSeverity,
      types: b.types,
      shipmentIds: b.shipmentIds,
      customers: b.customers,
      renotifyAfterS: b.renotifyAfterS,
      enabled: b.enabled,
    };
    const updated = await updateChannel(db, ch.id, patch);
    if (!updated) throw new AppError('NOT_FOUND', `no channel ${ch.id}`);
    return c.json(channelView(updated));
  });

  r.delete('/:id', requireRole('admin'), async (c) => {
    const id = c.req.param('id');
    if (!(await withTransaction(db, (tx) => deleteChannel(tx, id))))
      throw new AppError('NOT_FOUND', `no channel ${id}`);
    return c.body(null, 204);
  });

  r.get('/:id/deliveries', requireRole('admin'), async (c) => {
    const ch = await load(c.req.param('id'));
    const q = query(c, deliveriesQuery.omit({ channelId: true }));
    return c.json(await deliveriesPage(db, { ...q, channelId: ch.id }));
  });

  return r;
}

async function deliveriesPage(
  db: Pool,
  q: { status?: string; channelId?: string; limit: number; cursor?: string },
) {
  const before = decodeCursor(q.cursor, 2) as [string, string] | undefined;
  const rows = await listDeliveries(db, { ...q, before });
  return page(
    rows,
    q.limit,
    (d) => d,
    (d) => [d.createdAt, d.id],
  );
}

export function deliveriesRouter(db: Pool) {
  const r = new Hono<AppEnv>();

  r.get('/', requireRole('admin'), async (c) => c.json(await deliveriesPage(db, query(c, deliveriesQuery))));

  const deliveryId = (raw: string) => {
    if (!UUID.test(raw)) throw new AppError('NOT_FOUND', `no delivery ${raw}`);
    return raw;
  };

  r.get('/:id', requireRole('admin'), async (c) => {
    const d = await getDelivery(db, deliveryId(c.req.param('id')));
    if (!d) throw new AppError('NOT_FOUND', `no delivery ${c.req.param('id')}`);
    return c.json(d);
  });

  r.post('/:id/retry', requireRole('admin'), async (c) => {
    const id = deliveryId(c.req.param('id'));
    const outcome = await withTransaction(db, (tx) => retryDelivery(tx, id));
    if (outcome === 'not_found') throw new AppError('NOT_FOUND', `no delivery ${id}`);
    if (outcome === 'not_dead')
      throw new AppError('CONFLICT', `delivery ${id} is not dead: only dead ones are retried`);
    if (outcome === 'channel_deleted')
      throw new AppError('CONFLICT', `delivery ${id} belongs to a deleted channel: nothing can send it`);
    return c.json(await getDelivery(db, id));
  });

  return r;
}
