// /v1/rejections: refused messages with their reason codes (admin, compliance).
import type { Pool } from '../../db/pool.ts';
import { listRejections } from '../../db/queries.ts';
import { REJECTION_CODES } from '../../domain/errors.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, page, rangeParams, resolveRange } from '../pagination.ts';
import { listOf, time } from '../schemas.ts';

const rejectionSchema = z
  .object({
    id: z.string(),
    receivedAt: time,
    topic: z.string(),
    deviceId: z.string().optional(),
    siteId: z.string().optional(),
    reason: z.string().openapi({ description: `one of ${REJECTION_CODES.join(', ')}` }),
    detail: z.string(),
    authenticated: z.boolean().openapi({ description: 'the signature verified with a valid key' }),
    kid: z.string().optional(),
    seq: z.number().optional(),
    rawSize: z.number().openapi({ description: 'bytes received' }),
    rawBase64: z.string().optional().openapi({ description: 'the kept bytes, with includeRaw=true' }),
  })
  .openapi('Rejection');

const rejectionsQuery = z.object({
  ...rangeParams,
  deviceId: z.string().max(128).optional(),
  siteId: z.string().max(128).optional(),
  reason: z.enum(REJECTION_CODES).optional(),
  // 1,000 since before the common 500: clients already ask for it.
  limit: limitParam(1000, 100),
  cursor: cursorParam,
  includeRaw: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'true adds the kept raw bytes in base64 (up to REJECTION_RAW_CAP_BYTES each)' }),
});

export function rejectionsRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'Refused messages, newest first',
      description:
        'Received between `from` (inclusive) and `to` (exclusive), at most 31 days per request; without either, the last 31 days.',
      request: { query: rejectionsQuery },
      responses: { 200: json(listOf(rejectionSchema, 'RejectionList'), 'a page of refused messages') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { fromMs, toMs } = resolveRange(q, Date.now());
      const before = decodeCursor(q.cursor, ['time', 'number']) as [string, number] | undefined;
      const rows = await listRejections(db, {
        deviceId: q.deviceId,
        siteId: q.siteId,
        reason: q.reason,
        fromMs,
        toMs,
        limit: q.limit,
        includeRaw: q.includeRaw === 'true',
        before,
      });
      return c.json(
        page(
          rows,
          q.limit,
          (x) => x.item,
          (x) => x.cursorKey,
        ),
        200,
      );
    },
  );
  return r;
}
