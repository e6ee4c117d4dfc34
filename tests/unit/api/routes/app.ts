// The real Hono app (createApp) over a stand-in database, for route tests through app.request(): no server, no
// broker, no PostgreSQL unless a pool is given. The stand-in's `query` answers from `answer(sql)`, empty by
// default, and records what was asked.
import { createApp } from '../../../../src/api/app.ts';
import { createTokenVerifier, mintToken, type Role } from '../../../../src/auth.ts';
import type { Pool } from '../../../../src/db/pool.ts';
import type { GeoRuntime } from '../../../../src/geo/runtime.ts';
import { createLogger } from '../../../../src/log.ts';
import { createMetrics } from '../../../../src/metrics.ts';

const SECRET = new TextEncoder().encode('route-test-secret-route-test-secret-01');
const ISSUER = 'chipwatch-route-test';

export interface StubAnswer {
  rows: Record<string, unknown>[];
  rowCount?: number;
}

/** `db`: a real pool (integration tests); without it, a stand-in answering from `answer`. */
export function testApp(
  opts: { db?: Pool; answer?: (sql: string, values: unknown[]) => StubAnswer; geo?: GeoRuntime } = {},
) {
  const queries: { sql: string; values: unknown[] }[] = [];
  const stub = {
    query: async (sql: string, values: unknown[] = []) => {
      queries.push({ sql, values });
      const a = opts.answer?.(sql, values) ?? { rows: [] };
      return { rowCount: a.rows.length, ...a };
    },
  } as unknown as Pool;
  const app = createApp({
    db: opts.db ?? stub,
    geo: opts.geo ?? ({} as GeoRuntime),
    verifyToken: createTokenVerifier({ secret: SECRET, issuer: ISSUER }),
    metrics: createMetrics(),
    health: { database: async () => true, broker: () => true },
    log: createLogger('silent'),
    sealKey: {} as never,
    ackKey: {} as never,
  });
  /** app.request() with a bearer token of `role` (null: none) and a JSON body. */
  const call = async (method: string, path: string, o: { role?: Role | null; body?: unknown } = {}) => {
    const role = o.role === undefined ? 'admin' : o.role;
    const headers: Record<string, string> = {};
    if (role)
      headers.authorization = `Bearer ${await mintToken(SECRET, { sub: `t-${role}`, role, issuer: ISSUER, ttlS: 60 })}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body, headers: res.headers };
  };
  return { app, call, queries };
}
