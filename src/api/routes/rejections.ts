// /v1/rejections: refused messages with their reason codes (admin, compliance).
import { Hono } from 'hono';
import { z } from 'zod';
import type { Pool } from '../../db/pool.ts';
import { listRejections } from '../../db/queries.ts';
import { REJECTION_CODES } from '../../domain/errors.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { query } from '../validate.ts';
import { timeRange } from './shared.ts';

const rejectionsQuery = timeRange.extend({
  deviceId: z.string().max(128).optional(),
  siteId: z.string().max(128).optional(),
  reason: z.enum(REJECTION_CODES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
  includeRaw: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

export function rejectionsRouter(db: Pool) {
  const r = new Hono<AppEnv>();
  r.get('/', requireRole('compliance'), async (c) => {
    const q = query(c, rejectionsQuery);
    const before = decodeCursor(q.cursor, 2) as [string, number] | undefined;
    const rows = await listRejections(db, {
      deviceId: q.deviceId,
      siteId: q.siteId,
      reason: q.reason,
      fromMs: q.from,
      toMs: q.to,
      limit: q.limit,
      includeRaw: q.includeRaw,
      before,
    });
    return c.json(
      page(
        rows,
        q.limit,
        (x) => x.item,
        (x) => x.cursorKey,
      ),
    );
  });
  return r;
}
