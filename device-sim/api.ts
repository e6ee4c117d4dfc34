// The simulator's two needs from the HTTP API: an admin token and registered device keys.

import type { DevicePublicJwk } from './keys.ts';
import type { AckPublicJwk } from './tracker.ts';

/** A failed API call: `code` and `message` from chipwatch's `{"error": {...}}` body when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function unreachable(apiUrl: string, cause: unknown): Error {
  const why =
    cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
  return new Error(
    `cannot reach the chipwatch API at ${apiUrl} (${why}): is chipwatch running? start it with npm start, or pass --api URL`,
    { cause },
  );
}

function apiErrorOf(body: unknown): { code?: string; message: string } {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message =
    typeof err?.message === 'string' ? err.message : String(JSON.stringify(body) ?? '').slice(0, 300);
  return { code, message };
}

/** Registers up to 1,000 trackers in one request (`POST /v1/devices/batch`, all or none). */
export async function registerDevices(
  apiUrl: string,
  token: string,
  devices: { id: string; publicJwk: DevicePublicJwk }[],
): Promise<Map<string, string>> {
  const res = await apiCall(apiUrl, token, 'POST', '/v1/devices/batch', {
    devices: devices.map((d) => ({ id: d.id, publicKeyJwk: d.publicJwk })),
  });
  if (res.status === 201) {
    // Each device's MQTT password, shown this once: the simulated trackers connect with them.
    const credentials = (res.body as { credentials?: { mqttUsername: string; mqttPassword: string }[] })
      .credentials;
    return new Map((credentials ?? []).map((c) => [c.mqttUsername, c.mqttPassword]));
  }
  const { code, message } = apiErrorOf(res.body);
  const detail = `${res.status}${code ? ` ${code}` : ''}: ${message}`;
  if (res.status === 409)
    throw new ApiError(`devices already registered (${detail}); use another --id-prefix`, res.status, code);
  throw new ApiError(`registering ${devices.length} devices failed (${detail})`, res.status, code);
}

/** Registers a tracker key with `POST /v1/devices`; resolves with the created resource's JSON body. */
export async function registerDevice(
  apiUrl: string,
  token: string,
  deviceId: string,
  publicJwk: DevicePublicJwk,
): Promise<unknown> {
  const res = await apiCall(apiUrl, token, 'POST', '/v1/devices', { id: deviceId, publicKeyJwk: publicJwk });
  if (res.status === 201) return res.body;

  const { code, message } = apiErrorOf(res.body);
  const detail = `${res.status}${code ? ` ${code}` : ''}: ${message}`;
  if (res.status === 409) {
    throw new ApiError(
      `device ${deviceId} is already registered (${detail}); use another --id-prefix`,
      res.status,
      code,
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new ApiError(
      `chipwatch refused the token (${detail}); pass an admin token with --token or CHIPWATCH_TOKEN, or unset them so the simulator mints one from DATA_DIR`,
      res.status,
      code,
    );
  }
  throw new ApiError(`registering device ${deviceId} failed (${detail})`, res.status, code);
}

export interface TokenOptions {
  token?: string;
  /** Where chipwatch keeps its generated secret (DATA_DIR). */
  dataDir: string;
  /** AUTH_JWT_SECRET, if the operator set one; default from `env`. */
  secretEnv?: string;
  env?: NodeJS.ProcessEnv;
}

/** `--token`, else CHIPWATCH_TOKEN, else an admin token minted with chipwatch's own secret. */
export async function resolveToken(opts: TokenOptions): Promise<string> {
  const env = opts.env ?? process.env;
  if (opts.token) return opts.token;
  if (env.CHIPWATCH_TOKEN) return env.CHIPWATCH_TOKEN;
  // Loaded lazily: with a token given, the simulator runs without the server's code.
  const { mintToken, resolveJwtSecret } = await import('../src/auth.ts');
  const secret = resolveJwtSecret(opts.secretEnv ?? env.AUTH_JWT_SECRET, opts.dataDir, false);
  return mintToken(secret, {
    sub: 'device-sim',
    role: 'admin',
    issuer: env.AUTH_ISSUER ?? 'chipwatch',
    // A long run (a 25-day voyage at a low speed-up, or the demo left running) must not lose its token midway.
    ttlS: 7 * 86_400,
  });
}

/** Retries of one call refused with 429: chipwatch limits requests per token (RATE_LIMIT_PER_MIN, default 600). */
const RATE_LIMIT_RETRIES = 60;
let rateLimitedCalls = 0;

/** Calls that had to wait for chipwatch's rate limit so far (the load CLI says so when registration is slow). */
export function rateLimitedSoFar(): number {
  return rateLimitedCalls;
}

/**
 * One authenticated JSON call; resolves with status and parsed body, rejects only when the API is unreachable.
 * A 429 is waited out (Retry-After) and retried: the simulator is a client like any other.
 */
export async function apiCall(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  for (let attempt = 0; ; attempt++) {
    const res = await apiCallOnce(apiUrl, token, method, path, body);
    if (res.status !== 429 || attempt >= RATE_LIMIT_RETRIES) return res;
    rateLimitedCalls++;
    await new Promise((r) => setTimeout(r, Math.min(10, Math.max(0.2, res.retryAfterS)) * 1000));
  }
}

async function apiCallOnce(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; retryAfterS: number }> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw unreachable(apiUrl, cause);
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed, retryAfterS: Number(res.headers.get('retry-after')) || 1 };
}

/** Creates a resource with POST; 201 (or 200) resolves with the body, anything else throws what went wrong. */
export async function apiCreate(
  apiUrl: string,
  token: string,
  path: string,
  body: unknown,
  what: string,
): Promise<unknown> {
  const res = await apiCall(apiUrl, token, 'POST', path, body);
  if (res.status === 200 || res.status === 201) return res.body;
  const err = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const detail = `${res.status}${err?.code ? ` ${err.code}` : ''}: ${err?.message ?? JSON.stringify(res.body)}`;
  if (res.status === 401 || res.status === 403) {
    throw new ApiError(
      `chipwatch refused the token creating ${what} (${detail}); pass an admin token with --token or CHIPWATCH_TOKEN`,
      res.status,
      err?.code,
    );
  }
  if (res.status === 404 && /^\/v1\/(sites|landmarks)$/.test(path)) {
    throw new ApiError(
      `creating ${what} failed (${detail}): this chipwatch has no site registry yet; run scenarios without sites`,
      res.status,
      err?.code,
    );
  }
  throw new ApiError(`creating ${what} failed (${detail})`, res.status, err?.code);
}

/** Every item of a paginated list (`{items, nextCursor}`), following cursors up to `maxItems`. */
export async function apiList<T>(
  apiUrl: string,
  token: string,
  path: string,
  maxItems = 100_000,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url: string = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path;
    const res = await apiCall(apiUrl, token, 'GET', url);
    if (res.status !== 200) {
      const err = (res.body as { error?: { message?: string } } | undefined)?.error;
      throw new ApiError(
        `GET ${url} answered ${res.status}: ${err?.message ?? JSON.stringify(res.body)}`,
        res.status,
      );
    }
    const page = res.body as { items: T[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < maxItems);
  return items;
}

/** chipwatch's ack-signing public key (public GET /v1/ingest/key): what every simulated tracker pins. */
export async function fetchAckKey(apiUrl: string): Promise<AckPublicJwk> {
  const res = await fetch(`${apiUrl}/v1/ingest/key`);
  if (res.status !== 200) {
    throw new Error(
      `GET ${apiUrl}/v1/ingest/key answered ${res.status}: is chipwatch's API running there (--api)?`,
    );
  }
  return ((await res.json()) as { publicJwk: AckPublicJwk }).publicJwk;
}
