// Request validation with zod: bodies and query strings become typed values or a 400/422 with the field named.
import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError } from '../domain/errors.ts';

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
    .join('; ');
}

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError('BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new AppError('VALIDATION_FAILED', describe(result.error));
  return result.data;
}

export function query<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw new AppError('BAD_REQUEST', describe(result.error));
  return result.data;
}
