// Bearer-token authentication and the role check of each route.
import type { MiddlewareHandler } from 'hono';
import type { Principal, Role, TokenVerifier } from '../auth.ts';
import { AppError } from '../domain/errors.ts';

export type AppEnv = { Variables: { principal: Principal } };

export function authenticate(verify: TokenVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match?.[1]) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new AppError(
        'UNAUTHENTICATED',
        'send Authorization: Bearer <token> (mint one with `npx chipwatch token --role admin`)',
      );
    }
    c.set('principal', await verify(match[1]));
    await next();
  };
}

/** Admin may do everything; other roles only what the route names. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { role } = c.get('principal');
    if (role !== 'admin' && !roles.includes(role)) {
      throw new AppError('FORBIDDEN', `role ${role} may not ${c.req.method} ${c.req.routePath}`);
    }
    await next();
  };
}
