// The simulator's two needs from the HTTP API: an admin token and registered device keys.
import type { DevicePublicJwk } from './keys.ts';

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

async function apiErrorOf(res: Response): Promise<{ code?: string; message: string }> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body.error?.message === 'string' ? body.error.message : text;
    return { code, message };
  } catch {
    return { message: text.slice(0, 300) || res.statusText };
  }
}

/** Registers a tracker key with `POST /v1/devices`; resolves with the created resource's JSON body. */
export async function registerDevice(
  apiUrl: string,
  token: string,
  deviceId: string,
  publicJwk: DevicePublicJwk,
): Promise<unknown> {
  const url = `${apiUrl.replace(/\/+$/, '')}/v1/devices`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: deviceId, publicKeyJwk: publicJwk }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw unreachable(apiUrl, cause);
  }
  if (res.status === 201) return res.json().catch(() => undefined);

  const { code, message } = await apiErrorOf(res);
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
    ttlS: 3600,
  });
}

/** One authenticated JSON call; resolves with status and parsed body, rejects only when the API is unreachable. */
export async function apiCall(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
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
  return { status: res.status, body: parsed };
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
