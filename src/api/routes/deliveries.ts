// /v1/deliveries (admin): the deliveries made to the alert channels, dead ones included, with a manual retry.
import { getDelivery, listDeliveries, retryDelivery } from '../../db/deliveries.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { channelId } from '../channel-schemas.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { listOf, time } from '../schemas.ts';

export const deliveriesQuery = z.object({
  status: z
    .enum(['pending', 'delivered', 'dead'])
    .optional()
    .openapi({ description: 'pending (queued or retrying), delivered, or dead (gave up; retry by hand)' }),
  channelId: channelId.optional().openapi({ description: 'only deliveries to this channel' }),
  limit: limitParam(MAX_PAGE, 100),
  cursor: cursorParam,
});

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

// No regex flags: OpenAPI copies the source only, and a trailing "/i" in the pattern would match nothing.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const deliveryList = listOf(deliverySchema, 'DeliveryList');
const deliveryParams = z.object({
  id: z
    .string()
    .regex(UUID, 'delivery ids are UUIDs')
    .openapi({ format: 'uuid', example: '0b8f3c9e-2d4a-4f6b-9a1c-5e7d8f9a0b1c' }),
});

/** A page of deliveries, newest first, keyset-paginated by (createdAt, id). */
export async function deliveriesPage(
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
