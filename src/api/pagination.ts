// Lists: opaque cursors for keyset pagination, page-size and date-range limits, shared query parameters.
import { z } from '@hono/zod-openapi';
import { AppError } from '../domain/errors.ts';

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** What each element of a cursor key is: checked on the way in, so a forged cursor is a 400, never a SQL error. */
export type CursorKind = 'string' | 'number' | 'time';

const fits = (v: unknown, kind: CursorKind) =>
  kind === 'number'
    ? typeof v === 'number' && Number.isFinite(v)
    : typeof v === 'string' && v.length <= 256 && (kind === 'string' || !Number.isNaN(Date.parse(v)));

export function decodeCursor(
  cursor: string | undefined,
  kinds: readonly CursorKind[],
): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === kinds.length && key.every((v, i) => fits(v, kinds[i]!)))
      return key;
  } catch {}
  throw new AppError(
    'BAD_REQUEST',
    'cursor is not one this API issued: pass nextCursor from the previous page',
  );
}

/** A list answer: the items, and a cursor to the next page when this one is full. */
export function page<R, I>(rows: R[], limit: number, item: (r: R) => I, key: (r: R) => unknown[]) {
  const last = rows.at(-1);
  return {
    items: rows.map(item),
    nextCursor: rows.length === limit && last ? encodeCursor(key(last)) : null,
  };
}

/** Largest page of most lists: a page must stay a fast, bounded query and a bounded response. */
export const MAX_PAGE = 500;
/** Positions are small rows read in bulk to draw tracks, so their pages may be larger. */
export const MAX_POSITIONS_PAGE = 10_000;
/** Longest `from`…`to` span of one request over telemetry or rejections. */
export const MAX_RANGE_DAYS = 31;
const DAY_MS = 86_400_000;
/** "No upper bound": the largest time a JavaScript Date holds. */
const END_OF_TIME_MS = 8.64e15;

export const limitParam = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .openapi({ description: `page size, 1–${max} (default ${fallback})`, example: fallback });

export const cursorParam = z
  .string()
  .max(1000)
  .optional()
  .openapi({ description: 'nextCursor of the previous page; absent for the first page' });

const rfc3339 = (what: string) =>
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time, e.g. 2026-11-21T10:00:00Z')
    .optional()
    .openapi({ description: what, example: '2026-11-21T10:00:00Z' });

/** `from` (inclusive) and `to` (exclusive) as RFC 3339 strings; resolve them with `resolveRange`. */
export const rangeParams = {
  from: rfc3339(`start (inclusive); without it: ${MAX_RANGE_DAYS} days before \`to\`, or before now`),
  to: rfc3339(`end (exclusive); without it: ${MAX_RANGE_DAYS} days after \`from\`, or no end`),
};

/**
 * The time window of a request, in epoch ms, at most `maxDays` long: an unbounded scan over telemetry or
 * rejections would hold a connection and memory for as long as the table is big. A missing end is filled in
 * from the other end; with neither, the window is the last `maxDays` days.
 */
export function resolveRange(
  q: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
  maxDays = MAX_RANGE_DAYS,
): { fromMs: number; toMs: number } {
  const maxMs = maxDays * DAY_MS;
  const from = q.from === undefined ? undefined : Date.parse(q.from);
  const to = q.to === undefined ? undefined : Date.parse(q.to);
  if (from !== undefined && to !== undefined) {
    if (from >= to) throw new AppError('BAD_REQUEST', 'from must be before to');
    if (to - from > maxMs) {
      const days = Math.ceil(((to - from) / DAY_MS) * 10) / 10;
      throw new AppError(
        'BAD_REQUEST',
        `from…to spans ${days} days; ask for at most ${maxDays} days per request and page through longer periods range by range`,
      );
    }
    return { fromMs: from, toMs: to };
  }
  if (from !== undefined) return { fromMs: from, toMs: from + maxMs };
  if (to !== undefined) return { fromMs: to - maxMs, toMs: to };
  // Records lie at most MAX_CLOCK_SKEW_S ahead of the receiver's clock, so no end means "up to now".
  return { fromMs: nowMs - maxMs, toMs: END_OF_TIME_MS };
}
