// Lists: opaque cursors for keyset pagination, page-size and date-range limits, shared query parameters.
import { z } from '@hono/zod-openapi';
import { AppError } from '../domain/errors.ts';
import { textProblem } from '../domain/text.ts';

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What each element of a cursor key is: checked on the way in, so a forged cursor is a 400, never a SQL error.
 * `number`: an integer key (a time in epoch ms, a sequence number or a row id) between year 1 and year 9999 in ms;
 * `int32`: an integer column's key (0…2³¹−1); `time`: an RFC 3339 time between years 1 and 9999; `string`: at
 * most 256 characters of printable text.
 */
export type CursorKind = 'string' | 'number' | 'int32' | 'time';

const fits = (v: unknown, kind: CursorKind): boolean => {
  switch (kind) {
    case 'number':
      return Number.isSafeInteger(v) && (v as number) >= MIN_TIME_MS && (v as number) <= MAX_TIME_MS;
    case 'int32':
      return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 31 - 1;
    case 'time':
      return typeof v === 'string' && parseRfc3339(v) !== undefined;
    case 'string':
      return typeof v === 'string' && v.length <= 256 && textProblem(v) === undefined;
  }
};

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

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the times a request may name (PostgreSQL and Date hold them). */
export const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
export const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time (`2026-11-21T10:00:00Z`, `…T10:00:00.5+01:00`) as epoch ms, or undefined: other forms
 * Date.parse would take ("1", "Tue Mar 1"), impossible dates (February 31), year 0000 and offsets past ±23:59
 * are refused, and so is a time outside years 1…9999.
 */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (year! < 1 || month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 59)
    return undefined;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const d = new Date(Date.UTC(2000, month! - 1, day!));
  if (d.getUTCMonth() !== month! - 1) return undefined; // 31 April, 30 February
  if (month === 2 && day === 29 && !isLeap(year!)) return undefined;
  const ms = Date.parse(s.replace(/^(\d{4}-\d{2}-\d{2})t/, '$1T').replace(/z$/, 'Z'));
  if (Number.isNaN(ms) || ms < MIN_TIME_MS - 86_400_000 || ms > MAX_TIME_MS + 86_400_000) return undefined;
  return ms;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

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
    .max(40)
    .refine(
      (s) => parseRfc3339(s) !== undefined,
      'must be an RFC 3339 time between years 0001 and 9999, e.g. 2026-11-21T10:00:00Z',
    )
    .optional()
    .openapi({ description: what, example: '2026-11-21T10:00:00Z', format: 'date-time' });

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
  const from = q.from === undefined ? undefined : parseTime(q.from, 'from');
  const to = q.to === undefined ? undefined : parseTime(q.to, 'to');
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

function parseTime(s: string, name: string): number {
  const ms = parseRfc3339(s);
  if (ms === undefined)
    throw new AppError('BAD_REQUEST', `${name}: must be an RFC 3339 time between years 0001 and 9999`);
  return ms;
}
