// /v1/channels (admin): alert delivery channels (webhook, e-mail, MQTT) with their routing filters, and the
// deliveries made to each.

import { randomBytes } from 'node:crypto';
import {
  type ChannelPatch,
  deleteChannel,
  getChannel,
  insertChannel,
  listChannels,
  updateChannel,
} from '../../db/channels.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { type Resolver, resolveWebhookTarget, WebhookTargetError } from '../../delivery/webhook-target.ts';
import type { Cidr } from '../../domain/addresses.ts';
import { AppError } from '../../domain/errors.ts';
import {
  channelBody,
  channelCreated,
  channelId,
  channelPatch,
  channelSchema,
  channelsQuery,
  channelView,
  foreignField,
} from '../channel-schemas.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { decodeCursor, page } from '../pagination.ts';
import { listOf } from '../schemas.ts';
import { deliveriesPage, deliveriesQuery, deliveryList } from './deliveries.ts';

const idParams = z.object({ id: channelId });

export interface ChannelsOptions {
  /** WEBHOOK_ALLOW_PRIVATE: private ranges a webhook may target. */
  webhookAllow?: readonly Cidr[];
  /** DNS lookup of webhook hosts (tests pass their own). */
  resolve?: Resolver;
}

export function channelsRouter(db: Pool, opts: ChannelsOptions = {}) {
  const r = createRouter();

  /**
   * A webhook URL must resolve to addresses a delivery may reach (a name that does not resolve yet is accepted);
   * checked again at each delivery, which connects only to an address that passed.
   */
  const checkUrl = async (url: string) => {
    try {
      await resolveWebhookTarget(url, opts.webhookAllow ?? [], opts.resolve);
    } catch (err) {
      if (!(err instanceof WebhookTargetError)) throw err;
      // A name that does not resolve (yet) reaches nothing: accepted, and checked again at each delivery.
      if (err.kind === 'refused') throw new AppError('VALIDATION_FAILED', `url: ${err.message}`);
    }
  };

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: [],
      summary: 'Add a delivery channel: webhook, e-mail or MQTT',
      description:
        'A webhook without `secret` gets a generated one, returned in this answer only; a secret is never shown again. A webhook `url` must resolve to public addresses only: one that resolves to a loopback, private, link-local, CGNAT, unique-local or other special-purpose address (IPv4-mapped forms included) is refused with 422 naming the address, unless WEBHOOK_ALLOW_PRIVATE lists it; the check is made again before every delivery.',
      request: { body: { content: { 'application/json': { schema: channelBody } }, required: true } },
      responses: {
        201: json(channelCreated, 'added; Location names it'),
        409: errorResponse('CONFLICT: a channel with this id exists (or existed)'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      if (b.type === 'webhook') await checkUrl(b.url);
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
      const foreign = foreignField(b, ch.type);
      if (foreign) {
        const [field, type] = foreign;
        throw new AppError(
          'VALIDATION_FAILED',
          `${field}: only a ${type} channel has it; this one is ${ch.type}`,
        );
      }
      if (b.url !== undefined) await checkUrl(b.url);
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
