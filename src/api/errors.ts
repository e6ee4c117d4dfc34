// API errors: every failure answers {"error": {"code", "message"}} with the status its code implies.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isTransientDbError } from '../db/pool.ts';
import { API_ERRORS, type ApiErrorCode, AppError } from '../domain/errors.ts';
import type { Logger } from '../log.ts';

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError && err.code in API_ERRORS) {
      const status = API_ERRORS[err.code as ApiErrorCode] as ContentfulStatusCode;
      return c.json(errorBody(err.code, err.message), status);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code =
        status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : status === 401
            ? 'UNAUTHENTICATED'
            : status === 404
              ? 'NOT_FOUND'
              : 'BAD_REQUEST';
      return c.json(errorBody(code, err.message || 'request refused'), status as ContentfulStatusCode);
    }
    if (isTransientDbError(err)) {
      return c.json(errorBody('UNAVAILABLE', 'the database is unavailable; retry shortly'), 503, {
        'Retry-After': '5',
      });
    }
    log.error({ err, path: c.req.path }, 'unhandled API error');
    return c.json(errorBody('INTERNAL', 'internal error; see the server log'), 500);
  };
}
