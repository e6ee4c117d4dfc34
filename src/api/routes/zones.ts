// /v1/zones: custom zones (a port, a free-trade zone, an occupied region) with a policy tier (admin).
import type { Pool } from '../../db/pool.ts';
import { listZones } from '../../db/queries.ts';
import { insertZone, listCustomZones } from '../../db/zones.ts';
import { AppError } from '../../domain/errors.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { idSchema, listOf } from '../schemas.ts';

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const ring = z
  .array(position)
  .min(4, 'a linear ring has at least 4 positions')
  .refine(
    // zod runs this even when min(4) failed: a short ring must not throw here (it did: 500 on `[[]]`).
    (r) => r.length < 4 || (r[0]?.[0] === r.at(-1)?.[0] && r[0]?.[1] === r.at(-1)?.[1]),
    'a linear ring is closed (first position = last)',
  );
const geometry = z
  .union([
    z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1) }),
    z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1)).min(1) }),
  ])
  .openapi({ description: 'GeoJSON Polygon or MultiPolygon, [lon, lat] positions' });
const tier = z.enum(['restricted', 'licenseRequired', 'watch']);
const country = z
  .string()
  .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. CN')
  .openapi({ example: 'CN' });
const zoneBody = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(200).optional(),
    tier,
    country: country.optional(),
    geometry,
  })
  .openapi('ZoneRegistration');
const zoneSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tier,
    country: z.string().nullable(),
    geometry: z.object({ type: z.enum(['Polygon', 'MultiPolygon']), coordinates: z.array(z.unknown()) }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Zone');

export function zonesRouter(db: Pool, geo: GeoRuntime) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Add a custom zone',
      description: 'Checked at once by this process; other processes pick it up within ZONES_RELOAD_S.',
      request: { body: { content: { 'application/json': { schema: zoneBody } }, required: true } },
      responses: {
        201: json(zoneSchema, 'added'),
        409: errorResponse('CONFLICT: a zone with this id exists'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const zone = { ...b, name: b.name ?? b.id, country: b.country ?? null };
      const createdAt = await insertZone(db, zone, c.get('principal').sub);
      if (!createdAt) throw new AppError('CONFLICT', `zone ${b.id} exists`);
      // This process checks against the new zone at once; other processes on their next reload.
      geo.setCustomZones(await listCustomZones(db));
      return c.json({ ...zone, createdAt: createdAt.toISOString() }, 201);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'List custom zones',
      description: 'In id order.',
      request: {
        query: z.object({
          tier: tier.optional(),
          country: country.optional(),
          limit: limitParam(MAX_PAGE, 100),
          cursor: cursorParam,
        }),
      },
      responses: { 200: json(listOf(zoneSchema, 'ZoneList'), 'a page of zones') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, ['string'])?.[0] as string | undefined;
      const rows = await listZones(db, { tier: q.tier, country: q.country, limit: q.limit, afterId: after });
      return c.json(
        page(
          rows,
          q.limit,
          (z) => z,
          (z) => [z.id],
        ),
        200,
      );
    },
  );

  return r;
}
