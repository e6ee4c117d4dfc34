// Request validation with zod: bodies and query strings become typed values or a 400/422 with the field named.
// Every route validates through `validationHook` (see openapi.ts `createRouter`).
import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../domain/errors.ts';

/** The first few issues, each with the field it concerns: enough for a client to fix its request. */
export function describeIssues(error: z.ZodError, whole = 'body'): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || whole}: ${i.message}`)
    .join('; ');
}

/**
 * Replaces zod-openapi's default answer (a bare ZodError with 400) by our error contract: a bad body is 422
 * VALIDATION_FAILED, a bad query string 400 BAD_REQUEST, a path that cannot name anything 404 NOT_FOUND.
 * Throwing (rather than returning a response) sends it through the one `onError`.
 */
export function validationHook(
  result:
    | { target: string; success: true; data: unknown }
    | { target: string; success: false; error: z.ZodError },
  c: Context,
): void {
  if (result.success) return;
  const { target, error } = result;
  if (target === 'json') throw new AppError('VALIDATION_FAILED', describeIssues(error, 'body'));
  if (target === 'param') {
    throw new AppError('NOT_FOUND', `${c.req.path} names nothing: ${describeIssues(error, 'path')}`);
  }
  throw new AppError('BAD_REQUEST', describeIssues(error, target));
}
