// OpenAPI: one declaration per route gives its documentation, its request validation and its role check.
//
//   const r = createRouter();
//   r.openapi(
//     defineRoute({ method: 'get', path: '/{id}', roles: ['compliance'], summary: 'One site',
//                   request: { params: z.object({ id: idParam }) },
//                   responses: { 200: json(siteSchema, 'the site') } }),
//     async (c) => c.json(await load(c.req.valid('param').id), 200),
//   );
//
// `roles` lists who may call the route besides admin (admin may call everything); `'public'` means no token.
// The standard error answers (400/401/403/404/413/415/422/429/500/503, each `{"error": {"code", "message"}}`)
// are added to `responses` from what the route takes; a route adds its own (409…) in `responses`.

import { createRoute, OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../auth.ts';
import { type AppEnv, requireRole } from './auth.ts';
import { textGuard } from './guard.ts';
import { validationHook } from './validate.ts';

export { z };

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
      message: z.string().openapi({ example: 'corridorKm: Too small: expected number to be >0' }),
    }),
  })
  .openapi('Error');

/** Who may call a route besides admin, or 'public' for no token at all. */
export type Access = readonly Role[] | 'public';

/** A router whose validation failures answer with our error contract (see `validationHook`). */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** A JSON response of `schema`. */
export function json<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** An error answer (`{"error": {"code", "message"}}`) a route adds to the standard ones, e.g. 409. */
export const errorResponse = (description: string) => json(errorSchema, description);
const error = errorResponse;

const standardErrors = {
  400: error(
    'BAD_REQUEST: a path segment, query parameter or header is invalid, e.g. holds a NUL or control character (the message names it)',
  ),
  429: error(
    'RATE_LIMITED: more requests than RATE_LIMIT_PER_MIN for this token (or address); wait Retry-After seconds',
  ),
  500: error('INTERNAL: a bug; the log has the request id (X-Request-Id)'),
  503: error('UNAVAILABLE (the database is down; Retry-After) or TIMEOUT (slower than REQUEST_TIMEOUT_MS)'),
} as const;
const authErrors = {
  401: error(
    'UNAUTHENTICATED: no bearer token, or it is expired, without exp, badly signed, of another issuer, or without a valid role',
  ),
  403: error('FORBIDDEN: the token is valid, but its role may not call this route'),
} as const;
const queryErrors = {
  400: error(
    'BAD_REQUEST: a query parameter is invalid (out of range, a cursor this API did not issue, a NUL or control character; the message names it)',
  ),
} as const;
const paramErrors = { 404: error('NOT_FOUND: nothing has this id') } as const;
const bodyErrors = {
  400: error('BAD_REQUEST: the body is not JSON, or a query parameter, path segment or header is invalid'),
  413: error('PAYLOAD_TOO_LARGE: bodies are limited to 1 MiB'),
  415: error('UNSUPPORTED_MEDIA_TYPE: send the body with Content-Type: application/json'),
  422: error(
    'VALIDATION_FAILED: the body is JSON but a field is missing or invalid, or a string in it holds a NUL or control character (the message names it)',
  ),
} as const;

type StandardErrors = typeof standardErrors &
  typeof authErrors &
  typeof queryErrors &
  typeof paramErrors &
  typeof bodyErrors;

type Spec = Omit<RouteConfig, 'middleware' | 'security' | 'summary'> & { roles: Access; summary: string };

/** Roles as documented: admin first, then the others the route names. */
export function rolesOf(roles: Access): Role[] {
  return roles === 'public' ? [] : ['admin', ...roles.filter((r) => r !== 'admin')];
}

/**
 * A route declaration for `router.openapi(route, handler)`: the OpenAPI operation (security, `x-roles`, roles in
 * the description, every response), and `requireRole(...)` as its middleware, run before any validation so a
 * caller without the role learns nothing about the request's shape.
 */
export function defineRoute<const S extends Spec>(spec: S) {
  const { roles, description, ...route } = spec;
  const allowed = rolesOf(roles);
  const who = roles === 'public' ? 'Public: no token needed.' : `Roles: ${allowed.join(', ')}.`;
  const request = route.request;
  const errors = {
    ...standardErrors,
    ...(roles === 'public' ? {} : authErrors),
    ...(request?.params ? paramErrors : {}),
    ...(request?.query ? queryErrors : {}),
    ...(request?.body ? bodyErrors : {}),
  };
  // The role check first (a caller without the role learns nothing about the request's shape), then the text guard.
  const guard = textGuard({
    headers: headerNames(request?.headers),
    body: request?.body !== undefined,
  });
  const middleware: MiddlewareHandler<AppEnv>[] =
    roles === 'public' ? [guard] : [requireRole(...roles), guard];
  return createRoute({
    ...route,
    description: description ? `${description}\n\n${who}` : who,
    'x-roles': allowed,
    security: roles === 'public' ? [] : [{ bearer: [] }],
    middleware,
    responses: { ...errors, ...route.responses },
  }) as unknown as Omit<S, 'roles' | 'responses'> & {
    middleware: MiddlewareHandler<AppEnv>[];
    responses: S['responses'] & Partial<StandardErrors>;
    getRoutingPath(): string;
  };
}

/** The names a route's `request.headers` schema declares (a zod object), for the text guard. */
function headerNames(headers: unknown): string[] {
  const shape = (headers as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

/** The bearer scheme every non-public operation names. */
export function registerSecurity(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'HS256 JWT with `sub`, `role` (admin, logistics, compliance), `iss` and a required `exp`; mint one with `npx chipwatch token --role admin`.',
  });
}

/**
 * Every route the app answers (method and Hono path, e.g. `GET /v1/devices/:id`), middleware entries left out:
 * what the role-matrix and documentation tests walk, so a new router is covered the moment it is mounted.
 */
export function registeredRoutes(app: { routes: readonly { method: string; path: string }[] }) {
  const seen = new Map<string, { method: string; path: string }>();
  for (const { method, path } of app.routes) {
    if (method === 'ALL') continue;
    seen.set(`${method} ${path}`, { method, path });
  }
  return [...seen.values()];
}

/** `/v1/devices/:id` → `/v1/devices/{id}`, as OpenAPI writes paths (a `{regex}` after the name is dropped). */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
}
