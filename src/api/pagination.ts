// Opaque cursors for keyset pagination: a base64url JSON of the last row's sort key.
import { AppError } from '../domain/errors.ts';

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {}
  throw new AppError('BAD_REQUEST', 'cursor is not one this API issued');
}

/** A list answer: the items, and a cursor to the next page when this one is full. */
export function page<R, I>(rows: R[], limit: number, item: (r: R) => I, key: (r: R) => unknown[]) {
  const last = rows.at(-1);
  return {
    items: rows.map(item),
    nextCursor: rows.length === limit && last ? encodeCursor(key(last)) : null,
  };
}
