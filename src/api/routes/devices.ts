// /v1/devices: register a tracker key (admin), revoke it (admin), list and read trackers and their fixes.
import { getDevice, insertDevice, insertDevices, kidTaken, revokeDevice } from '../../db/devices.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { listDevices } from '../../db/queries.ts';
import { AppError } from '../../domain/errors.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { idSchema, listOf } from '../schemas.ts';
import { deviceSchema, deviceView, positionList, positionsPage, positionsQuery } from './shared.ts';

const registerBody = z
  .object({
    id: idSchema,
    publicKeyJwk: z.unknown().openapi({
      description: 'public Ed25519 (OKP) or P-256 (EC) JWK with `kid`; pinned to EdDSA or ES256',
      example: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
        kid: 'trk-42-k1',
      },
    }),
  })
  .openapi('DeviceRegistration');
const revokeBody = z.object({ reason: z.string().max(500).optional() });
/** Fleets are provisioned in bulk: 10,000 trackers in 10 requests instead of 10,000 (and 10,000 rate-limit tokens). */
const MAX_BATCH = 1000;
const batchBody = z
  .object({ devices: z.array(registerBody).min(1).max(MAX_BATCH) })
  .openapi('DeviceBatchRegistration');
const idParams = z.object({ id: idSchema });

export function devicesRouter(db: Pool) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register a tracker and its public key',
      request: { body: { content: { 'application/json': { schema: registerBody } }, required: true } },
      responses: {
        201: json(deviceSchema, 'registered; Location names it'),
        409: errorResponse('CONFLICT: the device id or the key id is already registered'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const jwk = normalizePublicJwk(body.publicKeyJwk);
      if (!(await insertDevice(db, body.id, jwk, c.get('principal').sub))) {
        const what = (await kidTaken(db, jwk.kid)) ? `key id ${jwk.kid}` : `device ${body.id}`;
        throw new AppError('CONFLICT', `${what} is already registered`);
      }
      const device = await getDevice(db, body.id);
      return c.json(deviceView(device!), 201, { Location: `/v1/devices/${body.id}` });
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/batch',
      roles: ['admin'],
      summary: `Register up to ${MAX_BATCH} trackers at once, all or none`,
      description:
        'Each item as in POST /v1/devices. Nothing is registered when any id or kid is taken (409 names them).',
      request: { body: { content: { 'application/json': { schema: batchBody } }, required: true } },
      responses: {
        201: json(
          z.object({ registered: z.number(), ids: z.array(z.string()) }).openapi('DeviceBatchResult'),
          'registered',
        ),
        409: errorResponse(
          'CONFLICT: some device ids or key ids are already registered (or repeated in the batch)',
        ),
      },
    }),
    async (c) => {
      const { devices } = c.req.valid('json');
      const rows = devices.map((d) => ({ id: d.id, jwk: normalizePublicJwk(d.publicKeyJwk) }));
      const repeated = (xs: string[]) => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))];
      const dupIds = repeated(rows.map((d) => d.id));
      const dupKids = repeated(rows.map((d) => d.jwk.kid));
      if (dupIds.length > 0 || dupKids.length > 0) {
        throw new AppError(
          'CONFLICT',
          `repeated in the batch: ${[...dupIds, ...dupKids].slice(0, 20).join(', ')}`,
        );
      }
      const taken = await withTransaction(db, (tx) => insertDevices(tx, rows, c.get('principal').sub)).catch(
        (e) => {
          // Another request registered one of these ids between the check and the insert.
          if ((e as { code?: string }).code === '23505')
            throw new AppError('CONFLICT', 'registered concurrently: retry to see which');
          throw e;
        },
      );
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
      return c.json({ registered: rows.length, ids: rows.map((d) => d.id) }, 201);
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
      description: 'Later messages signed with its keys are refused as KEY_REVOKED. The body may be empty.',
      request: { params: idParams, body: { content: { 'application/json': { schema: revokeBody } } } },
      responses: { 200: json(deviceSchema, 'revoked (idempotent: the first revocation time stays)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      if (!(await revokeDevice(db, id, c.get('principal').sub, reason ?? null))) {
        throw new AppError('NOT_FOUND', `no device ${id}`);
      }
      return c.json(deviceView((await getDevice(db, id))!), 200);
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
