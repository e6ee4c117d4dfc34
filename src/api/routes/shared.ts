// Pieces shared by the routers: time-range query parameters and resource views.
import type { Context } from 'hono';
import { z } from 'zod';
import type { DeviceRow } from '../../db/devices.ts';
import type { Pool } from '../../db/pool.ts';
import { listPositions } from '../../db/queries.ts';
import { decodeCursor, page } from '../pagination.ts';
import { query } from '../validate.ts';

const rfc3339 = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time, e.g. 2026-11-21T10:00:00Z')
  .transform((s) => Date.parse(s));

/** `from` (inclusive) and `to` (exclusive) as RFC 3339; defaults: the beginning of time, and far in the future. */
export const timeRange = z
  .object({
    from: rfc3339.optional().transform((v) => v ?? 0),
    to: rfc3339.optional().transform((v) => v ?? 8.64e15),
  })
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] });

export function deviceView(d: DeviceRow) {
  return {
    id: d.id,
    status: d.revokedAt ? 'revoked' : 'active',
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

/** Positions of a device or a shipment, in time order, keyset-paginated by (ts, seq, idx). */
export async function positionsPage(c: Context, db: Pool, of: { deviceId: string } | { shipmentId: string }) {
  const q = query(c, positionsQuery);
  const after = decodeCursor(q.cursor, 3) as [number, number, number] | undefined;
  const rows = await listPositions(db, { ...of, fromMs: q.from, toMs: q.to, limit: q.limit, after });
  return page(
    rows,
    q.limit,
    (p) => p.position,
    (p) => [p.tsMs, p.seq, p.idx],
  );
}

const positionsQuery = timeRange.extend({
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  cursor: z.string().optional(),
});
