// Rate limits: a token bucket per key (a token's `sub`, or a client address), in this process's memory.
// Several API processes each keep their own buckets, so N processes behind a balancer allow up to N times the
// rate; a restart refills every bucket. Both are acceptable for a limit whose job is to stop a runaway client.
import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './errors.ts';

export interface RateLimitDecision {
  allowed: boolean;
  /** Bucket size: requests allowed at once. */
  limit: number;
  /** Requests left right now. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetS: number;
  /** Seconds until the next request is allowed (0 when allowed). */
  retryAfterS: number;
}

export interface RateLimiter {
  take(key: string): RateLimitDecision;
  /** Keys held in memory. */
  size(): number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * `perMin` requests a minute on average, up to `burst` at once. Memory is bounded by `maxKeys`: beyond it,
 * buckets that have refilled (identical to a fresh one) are dropped first, then the least recently used.
 */
export function createRateLimiter(
  opts: { perMin: number; burst: number; maxKeys?: number },
  now: () => number = Date.now,
): RateLimiter {
  const perMs = opts.perMin / 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const fullAfterMs = opts.burst / perMs;
  const buckets = new Map<string, Bucket>();
  let lastSweepMs = Number.NEGATIVE_INFINITY;

  // Amortised: the full scan for refilled buckets runs at most once per refill period, and the LRU pass frees a
  // tenth of the room at once, so a flood of new keys costs O(1) per request, not a scan each.
  const evict = (t: number) => {
    if (t - lastSweepMs >= fullAfterMs) {
      lastSweepMs = t;
      for (const [key, b] of buckets) if (t - b.atMs >= fullAfterMs) buckets.delete(key);
    }
    // Map iteration is insertion order and `take` re-inserts: the first keys are the least recently used.
    const target = Math.floor(maxKeys * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  };

  return {
    take(key) {
      const t = now();
      const prev = buckets.get(key);
      if (!prev && buckets.size >= maxKeys) evict(t);
      const tokens = prev ? Math.min(opts.burst, prev.tokens + (t - prev.atMs) * perMs) : opts.burst;
      const allowed = tokens >= 1;
      const left = allowed ? tokens - 1 : tokens;
      buckets.delete(key);
      buckets.set(key, { tokens: left, atMs: t });
      return {
        allowed,
        limit: opts.burst,
        remaining: Math.floor(left),
        resetS: Math.ceil((opts.burst - left) / perMs / 1000),
        retryAfterS: allowed ? 0 : Math.max(1, Math.ceil((1 - left) / perMs / 1000)),
      };
    },
    size: () => buckets.size,
  };
}

/** RateLimit-* headers (IETF draft "RateLimit header fields for HTTP") on every limited answer. */
export function setRateLimitHeaders(c: Context, d: RateLimitDecision) {
  c.header('RateLimit-Limit', String(d.limit));
  c.header('RateLimit-Remaining', String(d.remaining));
  c.header('RateLimit-Reset', String(d.resetS));
}

/** The 429 answer: our error body, Retry-After and the RateLimit headers. */
export function tooManyRequests(c: Context, d: RateLimitDecision, who: string) {
  setRateLimitHeaders(c, d);
  return c.json(
    errorBody('RATE_LIMITED', `too many requests from ${who}; retry after ${d.retryAfterS} s`),
    429,
    { 'Retry-After': String(d.retryAfterS) },
  );
}

/** Limits each request by the key `keyOf` gives; `who` names it in the 429 message. */
export function rateLimit(
  limiter: RateLimiter,
  keyOf: (c: Context) => { key: string; who: string },
): MiddlewareHandler {
  return async (c, next) => {
    const { key, who } = keyOf(c);
    const d = limiter.take(key);
    if (!d.allowed) return tooManyRequests(c, d, who);
    setRateLimitHeaders(c, d);
    await next();
  };
}
