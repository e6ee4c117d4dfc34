// /v1/channels and /v1/deliveries (admin): alert delivery channels — webhook, e-mail, MQTT — with their routing
// filters, and the deliveries made to them, dead ones included, with a manual retry.

import { randomBytes } from 'node:crypto';
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
import { type AlertType, SEVERITY } from '../../domain/alerts.ts';
import { AppError } from '../../domain/errors.ts';
import { createRouter, defineRoute, errorResponse, idSchema, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { listOf } from './shared.ts';

const channelId = idSchema.openapi({ example: 'ch-ops-webhook' });
const alertType = z
  .enum(Object.keys(SEVERITY) as [AlertType, ...AlertType[]])
  .openapi({ example: 'ROUTE_DEVIATION' });
const severity = z.enum(['info', 'warning', 'critical']);
const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000)
  .openapi({
    description: 'where alerts are POSTed, signed with the secret',
    example: 'https://ops.example.com/hook',
  });
const webhookSecret = z
  .string()
  .min(16, 'at least 16 characters')
  .max(256)
  .openapi({ description: 'HMAC key of the signature header; never shown again' });
const recipients = z
  .array(z.email())
  .min(1)
  .max(50)
  .openapi({ description: 'e-mail addresses', example: ['ops@example.com'] });
const topic = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^#+]*[^/#+]$/, 'an MQTT topic without wildcards or a trailing slash')
  .openapi({
    description: 'base topic (alerts go to {topic}/{shipmentId}); absent or null: {MQTT_TOPIC_PREFIX}/alerts',
    example: 'acme/alerts',
  });
/** null or absent: no filter. */
const filter = <T extends z.ZodType>(item: T, description: string) =>
  z
    .array(item)
    .min(1)
    .max(1000)
    .nullable()
    .optional()
    .openapi({ description: `${description}; null or absent: no filter` });

const minSeverity = severity.openapi({ description: 'the least severe alert the channel hears of' });
const renotifyAfterS = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400)
  .openapi({
    description: 'an alert that keeps updating is sent again at most this often, s (0: every update)',
  });
const filters = {
  types: filter(alertType, 'only these alert types'),
  shipmentIds: filter(idSchema, 'only alerts of these shipments (or of the customers below)'),
  customers: filter(
    z.string().min(1).max(200),
    "only alerts of these customers' shipments (or of the shipments above)",
  ),
};
const routing = {
  minSeverity: minSeverity.default('info'),
  ...filters,
  renotifyAfterS: renotifyAfterS.default(3600),
  enabled: z.boolean().default(true),
};

/** POST /v1/channels. A webhook without `secret` gets a generated one, returned once in the answer. */
export const channelBody = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('webhook'),
        id: channelId.optional(),
        url: webhookUrl,
        secret: webhookSecret.optional(),
        ...routing,
      })
      .openapi('WebhookChannelRegistration'),
    z
      .strictObject({ type: z.literal('email'), id: channelId.optional(), to: recipients, ...routing })
      .openapi('EmailChannelRegistration'),
    z
      .strictObject({
        type: z.literal('mqtt'),
        id: channelId.optional(),
        topic: topic.optional(),
        ...routing,
      })
      .openapi('MqttChannelRegistration'),
  ])
  .openapi('ChannelRegistration', {
    description:
      'A channel and its routing filters. Without `id` one is generated; a webhook without `secret` gets a generated one.',
  });

/** PATCH /v1/channels/{id}: the fields to change (null clears a filter); type-specific fields only on their type. */
export const channelPatch = z
  .strictObject({
    url: webhookUrl.optional(),
    secret: webhookSecret.optional(),
    to: recipients.optional(),
    topic: topic.nullable().optional(),
    minSeverity: minSeverity.optional(),
    ...filters,
    renotifyAfterS: renotifyAfterS.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi('ChannelPatch', {
    description:
      'The fields to change; absent: unchanged, null: cleared. `url` and `secret` only on a webhook, `to` on e-mail, `topic` on MQTT.',
  });

export const channelsQuery = z.object({
  type: z
    .enum(['webhook', 'email', 'mqtt'])
    .optional()
    .openapi({ description: 'only channels of this type' }),
  limit: limitParam(MAX_PAGE, 100),
  cursor: cursorParam,
});

export const deliveriesQuery = z.object({
  status: z
    .enum(['pending', 'delivered', 'dead'])
    .optional()
    .openapi({ description: 'pending (queued or retrying), delivered, or dead (gave up; retry by hand)' }),
  channelId: channelId.optional().openapi({ description: 'only deliveries to this channel' }),
  limit: limitParam(MAX_PAGE, 100),
  cursor: cursorParam,
});

const time = z.string().openapi({ format: 'date-time' });

/** What the API shows of a channel: never the webhook secret, only that one is set. */
export const channelSchema = z
  .object({
    id: z.string(),
    type: z.enum(['webhook', 'email', 'mqtt']),
    url: z.string().nullable().optional().openapi({ description: 'webhook only' }),
    secretSet: z
      .boolean()
      .optional()
      .openapi({ description: 'webhook only: whether it has a secret (never shown)' }),
    to: z.array(z.string()).optional().openapi({ description: 'e-mail only: the recipients' }),
    topic: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'MQTT only: the base topic; null: {MQTT_TOPIC_PREFIX}/alerts' }),
    minSeverity: severity,
    types: z.array(z.string()).nullable(),
    shipmentIds: z.array(z.string()).nullable(),
    customers: z.array(z.string()).nullable(),
    renotifyAfterS: z.number(),
    enabled: z.boolean(),
    createdAt: time,
    createdBy: z.string().nullable(),
    updatedAt: time,
  })
  .openapi('Channel');

const channelCreated = channelSchema
  .extend({
    secret: z.string().optional().openapi({
      description:
        'the generated webhook secret, when none was given: shown this once, for the receiver to verify signatures',
    }),
  })
  .openapi('ChannelCreated');

export const deliverySchema = z
  .object({
    id: z.string().openapi({ format: 'uuid' }),
    channelId: z.string(),
    channelType: z.enum(['webhook', 'email', 'mqtt']),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number(),
    eventId: z
      .number()
      .nullable()
      .openapi({ description: 'position of the alert event in /v1/alerts/stream' }),
    alertId: z.string(),
    alertType: z.string(),
    action: z.string().openapi({ example: 'opened' }),
    createdAt: time,
    nextAttemptAt: time.nullable().openapi({ description: 'while pending' }),
    deliveredAt: time.nullable(),
    deadAt: time.nullable(),
    lastError: z.string().nullable(),
    lastStatus: z.number().nullable().openapi({ description: 'HTTP status of the last webhook attempt' }),
  })
  .openapi('Delivery');

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

const deliveryList = listOf(deliverySchema, 'DeliveryList');

const idParams = z.object({ id: channelId });
const deliveryParams = z.object({
  id: z
    .string()
    .regex(UUID, 'delivery ids are UUIDs')
    .openapi({ format: 'uuid', example: '0b8f3c9e-2d4a-4f6b-9a1c-5e7d8f9a0b1c' }),
});

export function channelsRouter(db: Pool) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: [],
      summary: 'Add a delivery channel: webhook, e-mail or MQTT',
      description:
        'A webhook without `secret` gets a generated one, returned in this answer only; a secret is never shown again.',
      request: { body: { content: { 'application/json': { schema: channelBody } }, required: true } },
      responses: {
        201: json(channelCreated, 'added; Location names it'),
        409: errorResponse('CONFLICT: a channel with this id exists (or existed)'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
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
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: [],
      summary: 'List delivery channels',
      description: 'In id order; deleted channels are left out.',
      request: { query: channelsQuery },
      responses: { 200: json(listOf(channelSchema, 'ChannelList'), 'a page of channels') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, ['string'])?.[0] as string | undefined;
      const rows = await listChannels(db, { limit: q.limit, afterId: after, type: q.type });
      return c.json(
        page(rows, q.limit, channelView, (ch) => [ch.id]),
        200,
      );
    },
  );

  const load = async (id: string) => {
    const ch = await getChannel(db, id);
    if (!ch) throw new AppError('NOT_FOUND', `no channel ${id}`);
    return ch;
  };

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: [],
      summary: 'One delivery channel',
      request: { params: idParams },
      responses: { 200: json(channelSchema, 'the channel') },
    }),
    async (c) => c.json(channelView(await load(c.req.valid('param').id)), 200),
  );

  r.openapi(
    defineRoute({
      method: 'patch',
      path: '/{id}',
      roles: [],
      summary: "Change a channel's target, secret or filters, or disable it",
      description: 'A field of another channel type (e.g. `url` on an e-mail channel) is refused with 422.',
      request: {
        params: idParams,
        body: { content: { 'application/json': { schema: channelPatch } }, required: true },
      },
      responses: { 200: json(channelSchema, 'changed') },
    }),
    async (c) => {
      const ch = await load(c.req.valid('param').id);
      const b = c.req.valid('json');
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
      return c.json(channelView(updated), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'delete',
      path: '/{id}',
      roles: [],
      summary: 'Delete a channel',
      description:
        'It is never routed to again and what it still had pending becomes dead; its deliveries stay listed, and its id stays taken.',
      request: { params: idParams },
      responses: { 204: { description: 'deleted' } },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await withTransaction(db, (tx) => deleteChannel(tx, id))))
        throw new AppError('NOT_FOUND', `no channel ${id}`);
      return c.body(null, 204);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/deliveries',
      roles: [],
      summary: "A channel's deliveries, newest first",
      request: { params: idParams, query: deliveriesQuery.omit({ channelId: true }) },
      responses: { 200: json(deliveryList, 'a page of deliveries') },
    }),
    async (c) => {
      const ch = await load(c.req.valid('param').id);
      return c.json(await deliveriesPage(db, { ...c.req.valid('query'), channelId: ch.id }), 200);
    },
  );

  return r;
}

async function deliveriesPage(
  db: Pool,
  q: { status?: string; channelId?: string; limit: number; cursor?: string },
) {
  const before = decodeCursor(q.cursor, ['time', 'string']) as [string, string] | undefined;
  // A cursor is opaque but still input: one this API did not issue is a 400, not a SQL error.
  if (before && (Number.isNaN(Date.parse(String(before[0]))) || !UUID.test(String(before[1])))) {
    throw new AppError(
      'BAD_REQUEST',
      'cursor is not one this API issued: pass nextCursor from the previous page',
    );
  }
  const rows = await listDeliveries(db, { ...q, before });
  return page(
    rows,
    q.limit,
    (d) => d,
    (d) => [d.createdAt, d.id],
  );
}

export function deliveriesRouter(db: Pool) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: [],
      summary: 'Deliveries to every channel, newest first',
      description: 'Filter by status to find the dead ones, which are retried by hand.',
      request: { query: deliveriesQuery },
      responses: { 200: json(deliveryList, 'a page of deliveries') },
    }),
    async (c) => c.json(await deliveriesPage(db, c.req.valid('query')), 200),
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: [],
      summary: 'One delivery',
      request: { params: deliveryParams },
      responses: { 200: json(deliverySchema, 'the delivery') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const d = await getDelivery(db, id);
      if (!d) throw new AppError('NOT_FOUND', `no delivery ${id}`);
      return c.json(d, 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/retry',
      roles: [],
      summary: 'Retry a dead delivery',
      description: 'It is queued again under the same id, with a fresh attempt budget.',
      request: { params: deliveryParams },
      responses: {
        200: json(deliverySchema, 'queued again'),
        409: errorResponse('CONFLICT: the delivery is not dead, or its channel was deleted'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const outcome = await withTransaction(db, (tx) => retryDelivery(tx, id));
      if (outcome === 'not_found') throw new AppError('NOT_FOUND', `no delivery ${id}`);
      if (outcome === 'not_dead')
        throw new AppError('CONFLICT', `delivery ${id} is not dead: only dead ones are retried`);
      if (outcome === 'channel_deleted')
        throw new AppError('CONFLICT', `delivery ${id} belongs to a deleted channel: nothing can send it`);
      return c.json((await getDelivery(db, id))!, 200);
    },
  );

  return r;
}
