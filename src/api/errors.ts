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

/** Codes for the HTTPExceptions Hono and its middleware throw (body limit, JSON parsing, media type, timeout). */
const HTTP_EXCEPTION_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'TIMEOUT',
  504: 'TIMEOUT',
};

/** What a client should do next, for the messages of Hono's own exceptions. */
const HTTP_EXCEPTION_HINTS: Record<number, string> = {
  400: 'the body must be JSON (Content-Type: application/json)',
  415: 'send the body as JSON with Content-Type: application/json',
};

export function httpExceptionBody(err: HTTPException) {
  const code = HTTP_EXCEPTION_CODES[err.status] ?? 'BAD_REQUEST';
  const hint = HTTP_EXCEPTION_HINTS[err.status];
  const message = [err.message || 'request refused', hint].filter(Boolean).join(': ');
  return errorBody(code, message);
}

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AppError && err.code in API_ERRORS) {
      const status = API_ERRORS[err.code as ApiErrorCode] as ContentfulStatusCode;
      return c.json(errorBody(err.code, err.message), status);
    }
    if (err instanceof HTTPException) {
      return c.json(httpExceptionBody(err), err.status as ContentfulStatusCode);
    }
    if (isTransientDbError(err)) {
      return c.json(errorBody('UNAVAILABLE', 'the database is unavailable; retry shortly'), 503, {
        'Retry-After': '5',
      });
    }
    // The request id is in the response header too: a user reporting the failure can quote it.
    log.error(
      { err, method: c.req.method, path: c.req.path, requestId: c.get('requestId') },
      'unhandled API error',
    );
    return c.json(
      errorBody('INTERNAL', `internal error; quote request id ${c.get('requestId') ?? '?'} to the operator`),
      500,
    );
  };
}
