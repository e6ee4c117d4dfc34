// What happens after one delivery attempt: delivered, retried later (exponential backoff with jitter), or parked
// as dead. Pure.

/** The outcome of one attempt, as a channel reports it. */
export type AttemptResult =
  | {
      ok: true;
      status?: number /** Delivered, with something worth recording (a recipient refused for good). */;
      note?: string;
    }
  | {
      ok: false;
      /** false: sending the same thing again cannot succeed (a 4xx, a permanent SMTP refusal, no SMTP_URL). */
      retry: boolean;
      error: string;
      status?: number;
      /** The receiver asked for this much quiet (Retry-After). */
      retryAfterMs?: number;
    };

export type NextStep =
  | { status: 'delivered'; note?: string }
  | { status: 'pending'; delayMs: number; error: string; httpStatus?: number }
  | { status: 'dead'; error: string; httpStatus?: number };

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * Delay after the `attempt`-th failure (1-based): base·2^(attempt−1), capped at maxMs, then "equal jitter" — a
 * random point in its upper half — so dispatchers retrying a receiver that came back do not arrive in lockstep,
 * yet no retry comes sooner than half the nominal delay.
 */
export function backoffMs(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/** `attempt` is the number of the attempt that just ended (1 for the first). */
export function nextStep(
  result: AttemptResult,
  attempt: number,
  p: RetryPolicy,
  random: () => number = Math.random,
): NextStep {
  if (result.ok) return result.note ? { status: 'delivered', note: result.note } : { status: 'delivered' };
  const httpStatus = result.status;
  if (!result.retry) return { status: 'dead', error: result.error, httpStatus };
  if (attempt >= p.maxAttempts) {
    return { status: 'dead', error: `gave up after ${attempt} attempts: ${result.error}`, httpStatus };
  }
  const delayMs = Math.min(p.maxMs, Math.max(backoffMs(attempt, p, random), result.retryAfterMs ?? 0));
  return { status: 'pending', delayMs, error: result.error, httpStatus };
}

/**
 * A webhook's HTTP answer: 2xx delivered. 408 (timeout), 429 (slow down) and 5xx are the receiver's passing
 * trouble: retry. Any other status (3xx: we do not follow redirects; 4xx: refused — wrong URL, bad signature,
 * gone) would be answered the same way next time, so the delivery is dead at once, to be retried by hand
 * (POST /v1/deliveries/{id}/retry) once the channel or the receiver is fixed.
 */
export function classifyHttp(status: number, retryAfter: string | null, nowMs = Date.now()): AttemptResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retry = status === 408 || status === 429 || status >= 500;
  const retryAfterMs = retry ? parseRetryAfter(retryAfter, nowMs) : undefined;
  const why =
    status >= 300 && status < 400 ? ' (redirects are not followed: set the final URL on the channel)' : '';
  return {
    ok: false,
    retry,
    error: `HTTP ${status}${why}`,
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
