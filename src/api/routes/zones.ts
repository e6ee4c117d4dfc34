// /v1/zones: custom zones (a port, a free-trade zone, an occupied region) with a policy tier (admin).
import { Hono } from 'hono';
import { z } from 'zod';
import type { Pool } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { jsonBody } from '../validate.ts';

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
const ring = z
  .array(position)
  .min(4, 'a linear ring has at least 4 positions')
  .refine(
    (r) => r[0]![0] === r.at(-1)![0] && r[0]![1] === r.at(-1)![1],
    'a linear ring is closed (first position = last)',
  );
const geometry = z.union([
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1)).min(1) }),
]);
const zoneBody = z.object({
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  name: z.string().min(1).max(200).optional(),
  tier: z.enum(['restricted', 'licenseRequired', 'watch']),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  geometry,
});

export function zonesRouter(db: Pool, geo: GeoRuntime) {
  const r = new Hono<AppEnv>();

  r.post('/', requireRole('admin'), async (c) => {
    const b = await jsonBody(c, zoneBody);
    const res = await db.query(
      `INSERT INTO zones (id, name, tier, country, geometry, created_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING RETURNING created_at`,
      [b.id, b.name ?? b.id, b.tier, b.country ?? null, b.geometry, c.get('principal').sub],
    );
    if (res.rowCount === 0) throw new AppError('CONFLICT', `zone ${b.id} exists`);
    // This process checks against the new zone at once; other processes on their next reload.
    await geo.reloadCustomZones(db);
    return c.json(
      { ...b, name: b.name ?? b.id, createdAt: (res.rows[0].created_at as Date).toISOString() },
      201,
    );
  });

  r.get('/', requireRole('logistics', 'compliance'), async (c) => {
    const res = await db.query('SELECT id, name, tier, country, geometry, created_at FROM zones ORDER BY id');
    return c.json({
      items: res.rows.map((z) => ({
        id: z.id,
        name: z.name,
        tier: z.tier,
        country: z.country,
        geometry: z.geometry,
        createdAt: z.created_at.toISOString(),
      })),
      nextCursor: null,
    });
  });

  return r;
}
