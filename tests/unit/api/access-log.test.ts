// Structured request logs: one line per request with method, path, status, duration, request id and the caller's
// sub; failures logged by onError carry the same request id the client got in X-Request-Id.
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { accessLog } from '../../../src/api/app.ts';
import type { AppEnv } from '../../../src/api/auth.ts';
import { onError } from '../../../src/api/errors.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { lines, log };
}

function app(log: pino.Logger) {
  const a = new Hono<AppEnv>();
  a.use(requestId());
  a.use(accessLog(log));
  a.get('/v1/things', (c) => {
    c.set('principal', { sub: 'alice', role: 'logistics' });
    return c.json({ items: [] });
  });
  a.get('/v1/broken', () => {
    throw new Error('boom');
  });
  a.get('/healthz', (c) => c.json({ status: 'ok' }));
  a.onError(onError(log));
  return a;
}

describe('access log', () => {
  it('writes one info line per request with method, path, status, ms, requestId and sub', async () => {
    const { lines, log } = capture();
    const res = await app(log).request('/v1/things?limit=5', { headers: { 'x-request-id': 'req-1' } });
    expect(res.headers.get('x-request-id')).toBe('req-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request',
      method: 'GET',
      path: '/v1/things',
      status: 200,
      requestId: 'req-1',
      sub: 'alice',
    });
    expect(typeof lines[0]!.ms).toBe('number');
  });

  it('logs a failure with the request id, then its access line with status 500', async () => {
    const { lines, log } = capture();
    const res = await app(log).request('/v1/broken', { headers: { 'x-request-id': 'req-2' } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('req-2');
    expect(lines.map((l) => [l.level, l.msg, l.requestId, l.status])).toEqual([
      [50, 'unhandled API error', 'req-2', undefined],
      [30, 'request', 'req-2', 500],
    ]);
  });

  it('keeps health probes at debug so they do not flood the log', async () => {
    const { lines, log } = capture();
    await app(log).request('/healthz');
    expect(lines.map((l) => [l.level, l.path])).toEqual([[20, '/healthz']]);
  });
});
