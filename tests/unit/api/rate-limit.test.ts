// The token bucket behind the API's rate limits, and the request timeout: bursts, refill, per-key isolation,
// bounded memory, and the answers a client sees (429 with Retry-After and RateLimit headers; 503 TIMEOUT).
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requestTimeout } from '../../../src/api/app.ts';
import { onError } from '../../../src/api/errors.ts';
import { createRateLimiter, rateLimit } from '../../../src/api/rate-limit.ts';
import { createLogger } from '../../../src/log.ts';

/** A clock the test moves by hand. */
const clock = (startMs = 1_000_000) => {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('createRateLimiter', () => {
  it('allows a burst, then refuses until a token has refilled at the per-minute rate', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 60, burst: 3 }, c.now);
    expect([1, 2, 3, 4].map(() => limiter.take('sub:alice').allowed)).toEqual([true, true, true, false]);
    const refused = limiter.take('sub:alice');
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterS: 1, limit: 3 });
    c.advance(999);
    expect(limiter.take('sub:alice').allowed).toBe(false);
    c.advance(1);
    expect(limiter.take('sub:alice').allowed).toBe(true);
  });

  it('refills to the burst and no further', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 600, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) limiter.take('k');
    c.advance(3_600_000);
    expect(limiter.take('k').remaining).toBe(4);
  });

  it('keeps keys apart', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 1, burst: 1 }, c.now);
    expect(limiter.take('sub:alice').allowed).toBe(true);
    expect(limiter.take('sub:alice').allowed).toBe(false);
    expect(limiter.take('sub:bob').allowed).toBe(true);
  });

  it('reports when the bucket is full again and when the next request may come', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 6, burst: 2 }, c.now);
    expect(limiter.take('k')).toMatchObject({ remaining: 1, resetS: 10, retryAfterS: 0 });
    limiter.take('k');
    expect(limiter.take('k')).toMatchObject({ allowed: false, remaining: 0, resetS: 20, retryAfterS: 10 });
  });

  it('holds at most maxKeys buckets, dropping refilled ones first, then the least recently used', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 60, burst: 2, maxKeys: 3 }, c.now);
    limiter.take('a');
    limiter.take('a');
    c.advance(10_000); // 'a' is full again: the same as no bucket
    limiter.take('b');
    limiter.take('b');
    limiter.take('c');
    limiter.take('d');
    expect(limiter.size()).toBe(3);
    // 'b' is the least recently used of the rest; a new key evicts it, and 'b' starts over with a full bucket.
    limiter.take('e');
    expect(limiter.size()).toBe(3);
    expect(limiter.take('b').remaining).toBe(1);
  });
});

describe('rateLimit middleware', () => {
  it('answers 429 RATE_LIMITED with Retry-After and RateLimit headers, and passes the RateLimit headers on otherwise', async () => {
    const c = clock();
    const app = new Hono();
    app.use(
      rateLimit(createRateLimiter({ perMin: 2, burst: 2 }, c.now), () => ({ key: 'ip:x', who: '192.0.2.1' })),
    );
    app.get('/', (ctx) => ctx.json({ ok: true }));
    const first = await app.request('/');
    expect(first.status).toBe(200);
    expect([first.headers.get('ratelimit-limit'), first.headers.get('ratelimit-remaining')]).toEqual([
      '2',
      '1',
    ]);
    await app.request('/');
    const refused = await app.request('/');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(await refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'too many requests from 192.0.2.1; retry after 30 s' },
    });
  });
});

describe('requestTimeout', () => {
  it('answers 503 TIMEOUT when the handler has not answered in time', async () => {
    let release = () => {};
    const app = new Hono();
    app.use(requestTimeout(20));
    app.get('/slow', async (ctx) => {
      await new Promise<void>((r) => {
        release = r;
      });
      return ctx.json({ ok: true });
    });
    app.get('/fast', (ctx) => ctx.json({ ok: true }));
    app.onError(onError(createLogger('silent')));
    const slow = await app.request('/slow');
    release();
    expect(slow.status).toBe(503);
    const body = (await slow.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TIMEOUT');
    expect(body.error.message).toMatch(/REQUEST_TIMEOUT_MS/);
    expect((await app.request('/fast')).status).toBe(200);
  });
});

describe('client address keys', () => {
  it('keys IPv6 clients by their /64, IPv4 and IPv4-mapped addresses as they are', async () => {
    const { addressKey } = await import('../../../src/api/app.ts');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:ffff::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
  });

  it('a flood of new keys at capacity keeps the map bounded', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMin: 60, burst: 2, maxKeys: 1000 }, c.now);
    for (let i = 0; i < 20_000; i++) limiter.take(`ip:${i}`);
    expect(limiter.size()).toBeLessThanOrEqual(1000);
    expect(limiter.size()).toBeGreaterThan(800);
  });
});
