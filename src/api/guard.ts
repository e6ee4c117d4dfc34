// The one guard for text from HTTP: every path parameter, query string, declared header and JSON body string of a
// route is checked for NUL, control characters and unpaired surrogates (src/domain/text.ts) before validation, so
// such input is a 400 (path, query, header) or 422 (body) naming its place, never a database error. `defineRoute`
// (openapi.ts) puts it on every route, after the role check.
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../domain/errors.ts';
import { findTextProblem, textProblem } from '../domain/text.ts';
import type { AppEnv } from './auth.ts';

/** Which parts of a request a route takes (from its OpenAPI declaration). */
export interface GuardedParts {
  headers?: readonly string[];
  body?: boolean;
}

export function textGuard(parts: GuardedParts = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    for (const [name, value] of Object.entries(c.req.param() as Record<string, string>)) {
      const p = textProblem(value);
      if (p) throw new AppError('BAD_REQUEST', `path parameter ${name} ${p}`);
    }
    for (const [name, values] of Object.entries(c.req.queries())) {
      const inName = textProblem(name);
      if (inName) throw new AppError('BAD_REQUEST', `a query parameter name ${inName}`);
      for (const v of values) {
        const p = textProblem(v);
        if (p) throw new AppError('BAD_REQUEST', `query parameter ${name} ${p}`);
      }
    }
    for (const name of parts.headers ?? []) {
      const v = c.req.header(name);
      const p = v === undefined ? undefined : textProblem(v);
      if (p) throw new AppError('BAD_REQUEST', `header ${name} ${p}`);
    }
    if (parts.body && isJson(c.req.header('content-type'))) {
      let body: unknown;
      try {
        // Cached by Hono: the validator reads the same parsed body. Malformed JSON is the validator's to answer.
        body = await c.req.json();
      } catch {
        return next();
      }
      // Free text in a body may break lines; ids and filters are held to their own patterns by the schemas.
      const p = findTextProblem(body, { allowLineBreaks: true });
      if (p) throw new AppError('VALIDATION_FAILED', p);
    }
    await next();
  };
}

function isJson(contentType: string | undefined): boolean {
  return !!contentType && /^application\/([\w.+-]*\+)?json\b/i.test(contentType.trim());
}
