// /v1/devices: register a tracker key (admin) and get its MQTT credential, rotate that credential (admin), revoke
// the tracker (admin), list and read trackers and their fixes.
import { generatePassword, hashPassword } from '../../broker/password.ts';
import { getDevice, insertDevice, insertDevices, kidTaken } from '../../db/devices.ts';
import { insertMqttCredentials } from '../../db/mqtt-credentials.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { listDevices } from '../../db/queries.ts';
import { revokeSender } from '../../db/revocation.ts';
import { AppError } from '../../domain/errors.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { firstSeqField, idSchema, listOf, publicJwk } from '../schemas.ts';
import { ackKeySchema, ackKeyView } from './ingest-key.ts';
import {
  endAccess,
  issueCredential,
  mqttCredentialFields,
  mqttCredentialSchema,
  type SenderDeps,
} from './mqtt-credentials.ts';
import { deviceSchema, deviceView, positionList, positionsPage, positionsQuery } from './shared.ts';

const registerBody = z
  .object({
    id: idSchema,
    publicKeyJwk: publicJwk,
    firstSeq: firstSeqField,
  })
  .openapi('DeviceRegistration');
const revokeBody = z.object({ reason: z.string().max(500).optional() });
/** Fleets are provisioned in bulk: 10,000 trackers in 10 requests instead of 10,000 (and 10,000 rate-limit tokens). */
const MAX_BATCH = 1000;
const batchBody = z
  .object({ devices: z.array(registerBody).min(1).max(MAX_BATCH) })
  .openapi('DeviceBatchRegistration');
const idParams = z.object({ id: idSchema });
const registeredSchema = deviceSchema.extend(mqttCredentialFields).openapi('DeviceRegistered');

export function devicesRouter(db: Pool, deps: SenderDeps) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register a tracker and its public key',
      description:
        'The answer carries the MQTT credential (user name = the id, `mqttPassword`, shown this once) and the ack key to pin.',
      request: { body: { content: { 'application/json': { schema: registerBody } }, required: true } },
      responses: {
        201: json(registeredSchema, 'registered; Location names it'),
        409: errorResponse('CONFLICT: the device id or the key id is already registered'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const jwk = normalizePublicJwk(body.publicKeyJwk);
      if (!(await insertDevice(db, body.id, jwk, c.get('principal').sub, body.firstSeq))) {
        const what = (await kidTaken(db, jwk.kid)) ? `key id ${jwk.kid}` : `device ${body.id}`;
        throw new AppError('CONFLICT', `${what} is already registered`);
      }
      const credential = await issueCredential(db, deps, 'device', body.id, c.get('principal').sub);
      const device = await getDevice(db, body.id);
      return c.json({ ...deviceView(device!), ...credential! }, 201, { Location: `/v1/devices/${body.id}` });
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/batch',
      roles: ['admin'],
      summary: `Register up to ${MAX_BATCH} trackers at once, all or none`,
      description:
        'Each item as in POST /v1/devices; `credentials` holds each MQTT password, shown this once. Nothing is registered when any id or kid is taken (409 names them).',
      request: { body: { content: { 'application/json': { schema: batchBody } }, required: true } },
      responses: {
        201: json(
          z
            .object({
              registered: z.number(),
              ids: z.array(z.string()),
              credentials: z.array(z.object({ mqttUsername: z.string(), mqttPassword: z.string() })),
              ackKey: ackKeySchema,
            })
            .openapi('DeviceBatchResult'),
          'registered',
        ),
        409: errorResponse(
          'CONFLICT: some device ids or key ids are already registered (or repeated in the batch)',
        ),
      },
    }),
    async (c) => {
      const { devices } = c.req.valid('json');
      const rows = devices.map((d) => ({
        id: d.id,
        jwk: normalizePublicJwk(d.publicKeyJwk),
        ...(d.firstSeq === undefined ? {} : { firstSeq: d.firstSeq }),
      }));
      const repeated = (xs: string[]) => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))];
      const dupIds = repeated(rows.map((d) => d.id));
      const dupKids = repeated(rows.map((d) => d.jwk.kid));
      if (dupIds.length > 0 || dupKids.length > 0) {
        throw new AppError(
          'CONFLICT',
          `repeated in the batch: ${[...dupIds, ...dupKids].slice(0, 20).join(', ')}`,
        );
      }
      const by = c.get('principal').sub;
      const passwords = rows.map(() => generatePassword());
      const hashes = await Promise.all(passwords.map(hashPassword));
      const taken = await withTransaction(db, async (tx) => {
        const t = await insertDevices(tx, rows, by);
        if (t.takenIds.length === 0 && t.takenKids.length === 0) {
          await insertMqttCredentials(
            tx,
            'device',
            rows.map((d, i) => ({ id: d.id, passwordHash: hashes[i]! })),
            by,
          );
        }
        return t;
      }).catch((e) => {
        // Another request registered one of these ids between the check and the insert.
        if ((e as { code?: string }).code === '23505')
          throw new AppError('CONFLICT', 'registered concurrently: retry to see which');
        throw e;
      });
      if (taken.takenIds.length > 0 || taken.takenKids.length > 0) {
        const names = [
          ...taken.takenIds.map((i) => `device ${i}`),
          ...taken.takenKids.map((k) => `key id ${k}`),
        ];
        throw new AppError(
          'CONFLICT',
          `already registered, nothing was registered: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`,
        );
      }
      for (const [i, d] of rows.entries()) await deps.access?.grant('device', d.id, passwords[i]!);
      return c.json(
        {
          registered: rows.length,
          ids: rows.map((d) => d.id),
          credentials: rows.map((d, i) => ({ mqttUsername: d.id, mqttPassword: passwords[i]! })),
          ackKey: ackKeyView(deps.ackKey),
        },
        201,
      );
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'List trackers',
      description: 'In id order.',
      request: {
        query: z.object({
          status: z.enum(['active', 'revoked']).optional(),
          limit: limitParam(MAX_PAGE, 100),
          cursor: cursorParam,
        }),
      },
      responses: { 200: json(listOf(deviceSchema, 'DeviceList'), 'a page of trackers') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, ['string'])?.[0] as string | undefined;
      const rows = await listDevices(db, { status: q.status, limit: q.limit, afterId: after });
      return c.json(
        page(rows, q.limit, deviceView, (d) => [d.id]),
        200,
      );
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/revoke',
      roles: ['admin'],
      summary: 'Revoke a tracker and all its keys',
      description:
        'Later messages signed with its keys are refused as KEY_REVOKED, and its MQTT access ends within seconds (live connections closed). The body may be empty.',
      request: { params: idParams, body: { content: { 'application/json': { schema: revokeBody } } } },
      responses: { 200: json(deviceSchema, 'revoked (idempotent: the first revocation time stays)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      if (!(await revokeSender(db, 'device', id, c.get('principal').sub, reason ?? null))) {
        throw new AppError('NOT_FOUND', `no device ${id}`);
      }
      await endAccess(deps, 'device', id);
      return c.json(deviceView((await getDevice(db, id))!), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/mqtt-credentials',
      roles: ['admin'],
      summary: 'Issue a new MQTT password for a tracker, ending the old one',
      description:
        'Connections made with the old password are closed within seconds; the new one is shown this once. The body may be empty.',
      request: { params: idParams },
      responses: {
        201: json(mqttCredentialSchema, 'the new credential'),
        409: errorResponse('CONFLICT: the tracker is revoked'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const device = await getDevice(db, id);
      if (!device) throw new AppError('NOT_FOUND', `no device ${id}`);
      if (device.revokedAt) throw new AppError('CONFLICT', `device ${id} is revoked`);
      const credential = await issueCredential(db, deps, 'device', id, c.get('principal').sub);
      if (!credential) throw new AppError('CONFLICT', `device ${id} is revoked`);
      return c.json(credential, 201);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: ['logistics', 'compliance'],
      summary: 'One tracker with its keys',
      request: { params: idParams },
      responses: { 200: json(deviceSchema, 'the tracker') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const device = await getDevice(db, id);
      if (!device) throw new AppError('NOT_FOUND', `no device ${id}`);
      return c.json(deviceView(device), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/positions',
      roles: ['logistics', 'compliance'],
      summary: "A tracker's fixes in time order",
      description:
        'From `from` (inclusive) to `to` (exclusive), at most 31 days per request; without either, the last 31 days.',
      request: { params: idParams, query: positionsQuery },
      responses: { 200: json(positionList, 'a page of fixes') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await getDevice(db, id))) throw new AppError('NOT_FOUND', `no device ${id}`);
      return c.json(await positionsPage(db, { deviceId: id }, c.req.valid('query')), 200);
    },
  );

  return r;
}
