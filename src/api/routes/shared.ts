// Pieces shared by the routers: resource views and their schemas, and the positions list.
import type { DeviceRow } from '../../db/devices.ts';
import type { Pool } from '../../db/pool.ts';
import { listPositions } from '../../db/queries.ts';
import { z } from '../openapi.ts';
import {
  cursorParam,
  decodeCursor,
  limitParam,
  MAX_POSITIONS_PAGE,
  page,
  rangeParams,
  resolveRange,
} from '../pagination.ts';
import { listOf, time as timeSchema } from '../schemas.ts';

const time = timeSchema.openapi({ example: '2026-11-21T10:00:00.000Z' });

export const deviceSchema = z
  .object({
    id: z.string(),
    status: z.enum(['active', 'revoked']),
    createdAt: time,
    revokedAt: time.nullable(),
    keys: z.array(
      z.object({
        kid: z.string(),
        alg: z.enum(['EdDSA', 'ES256']),
        createdAt: time,
        revokedAt: time.nullable(),
      }),
    ),
  })
  .openapi('Device');

export function deviceView(d: DeviceRow) {
  return {
    id: d.id,
    status: d.revokedAt ? ('revoked' as const) : ('active' as const),
    createdAt: d.createdAt.toISOString(),
    revokedAt: d.revokedAt?.toISOString() ?? null,
    keys: d.keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      createdAt: new Date(k.createdAt).toISOString(),
      revokedAt: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
    })),
  };
}

export const positionSchema = z
  .object({
    ts: time,
    lat: z.number(),
    lon: z.number(),
    altM: z.number().optional(),
    speedKmh: z.number().optional(),
    headingDeg: z.number().optional(),
    hdop: z.number().optional(),
    satellites: z.number().optional(),
    batteryPct: z.number().optional(),
    temperatureC: z.number().optional(),
    lightLux: z.number().optional(),
    tamper: z.boolean().optional(),
    seq: z.number().openapi({ description: 'seq of the signed message that carried the fix' }),
    receivedAt: time,
    shipmentId: z.string().optional(),
    flags: z.array(z.string()).openapi({ description: 'e.g. SPEED_IMPOSSIBLE' }),
  })
  .openapi('Position');

export const positionList = listOf(positionSchema, 'PositionList');

export const positionsQuery = z.object({
  ...rangeParams,
  order: z.enum(['asc', 'desc']).default('asc').openapi({
    description: '`asc`: oldest first (default); `desc`: newest first. Keep it the same across pages.',
  }),
  limit: limitParam(MAX_POSITIONS_PAGE, 1000),
  cursor: cursorParam,
});

/** Positions of a device or a shipment, in time order, keyset-paginated by (ts, seq, idx). */
export async function positionsPage(
  db: Pool,
  of: { deviceId: string } | { shipmentId: string },
  q: z.infer<typeof positionsQuery>,
) {
  const { fromMs, toMs } = resolveRange(q, Date.now());
  const after = decodeCursor(q.cursor, ['number', 'number', 'int32']) as [number, number, number] | undefined;
  const rows = await listPositions(db, { ...of, fromMs, toMs, limit: q.limit, after, order: q.order });
  return page(
    rows,
    q.limit,
    (p) => p.position,
    (p) => [p.tsMs, p.seq, p.idx],
  );
}
