// chipwatch started in-process against real servers, plus a small API client with minted tokens.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mintToken, type Role } from '../../src/auth.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { type Running, startChipwatch } from '../../src/server.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

export interface TestChipwatch extends Running {
  httpUrl: string;
  token(role: Role): Promise<string>;
  api(
    method: string,
    path: string,
    opts?: { role?: Role | null; token?: string; body?: unknown },
  ): Promise<{ status: number; body: any }>;
  sql<T = any>(text: string, values?: unknown[]): Promise<T[]>;
}

export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    HTTP_PORT: '0',
    BIND_HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MQTT_CLIENT_ID: `cw-test-${randomBytes(4).toString('hex')}`,
    INGEST_BATCH_MS: '10',
    ...env,
  });
}

export async function startTestChipwatch(
  env: { DATABASE_URL: string; MQTT_URL: string } & Record<string, string>,
): Promise<TestChipwatch> {
  const config = testConfig(env);
  const running = await startChipwatch(config, createLogger(config.LOG_LEVEL));
  const sqlPool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
  // Tests stop the database (faults): an idle connection dying must not be an uncaught error.
  sqlPool.on('error', () => {});
  const secret = new TextEncoder().encode(TEST_SECRET);
  const token = (role: Role) =>
    mintToken(secret, { sub: `test-${role}`, role, issuer: config.AUTH_ISSUER, ttlS: 600 });
  return {
    ...running,
    httpUrl: running.httpUrl!,
    token,
    api: async (method, path, opts = {}) => {
      const headers: Record<string, string> = {};
      const role = opts.role === undefined ? 'admin' : opts.role;
      const bearer = opts.token ?? (role ? await token(role) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${running.httpUrl}${path}`, {
        method,
        headers,
        body:
          opts.body === undefined
            ? undefined
            : typeof opts.body === 'string'
              ? opts.body
              : JSON.stringify(opts.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body };
    },
    sql: async (text, values) => (await sqlPool.query(text, values)).rows,
    stop: async () => {
      await running.stop();
      await sqlPool.end();
    },
  };
}

/** Polls `fn` until it returns a truthy value or the time is up (then returns the last value). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}
