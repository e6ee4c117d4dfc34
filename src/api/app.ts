// The HTTP API: one Hono app, one router per resource, errors as JSON in one place. Every request passes, in order:
// request id → access log → CORS (when configured) → security headers → timeout → body limit → rate limit (per
// address on public paths; on /v1 after authentication, per token `sub`) → route role check → validation → handler.

import { getConnInfo } from '@hono/node-server/conninfo';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { timeout } from 'hono/timeout';
import type { TokenVerifier } from '../auth.ts';
import type { BrokerAccess } from '../broker/access.ts';
import type { CheckParams } from '../checks/types.ts';
import type { Pool } from '../db/pool.ts';
import type { Cidr } from '../domain/addresses.ts';
import type { SealKey } from '../evidence/seal.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { OwnKey } from '../keyfile.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { type AppEnv, authenticate } from './auth.ts';
import { createCorridorCache } from './corridor-cache.ts';
import { dashboardRouter, policyRouter } from './dashboard.ts';
import { docsRouter } from './docs.ts';
import { errorBody, onError } from './errors.ts';
import { registerSecurity } from './openapi.ts';
import {
  createRateLimiter,
  type RateLimiter,
  rateLimit,
  setRateLimitHeaders,
  tooManyRequests,
} from './rate-limit.ts';
import { alertStreamRouter } from './routes/alert-stream.ts';
import { alertsRouter } from './routes/alerts.ts';
import { channelsRouter } from './routes/channels.ts';
import { chipsRouter } from './routes/chips.ts';
import { deliveriesRouter } from './routes/deliveries.ts';
import { devicesRouter } from './routes/devices.ts';
import { evidenceKeyRouter, evidenceRouter } from './routes/evidence.ts';
import { type Health, healthRouter } from './routes/health.ts';
import { ingestKeyRouter } from './routes/ingest-key.ts';
import { landmarksRouter } from './routes/landmarks.ts';
import { licencesRouter } from './routes/licences.ts';
import { overviewRouter } from './routes/overview.ts';
import { rejectionsRouter } from './routes/rejections.ts';
import { replayWindowRouter } from './routes/replay-window.ts';
import { reportRouter } from './routes/report.ts';
import { shipmentTrackRouter } from './routes/shipment-track.ts';
import { shipmentsRouter } from './routes/shipments.ts';
import { sitesRouter } from './routes/sites.ts';
import { zonesRouter } from './routes/zones.ts';

/** The API's limits; each from config.ts (the defaults here are config's). */
export interface ApiLimits {
  rateLimitPerMin: number;
  rateLimitBurst: number;
  requestTimeoutMs: number;
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
  /** Live alert streams per token subject (SSE_MAX_STREAMS_PER_TOKEN). */
  maxStreamsPerToken: number;
  /** Private ranges webhook channels may target (WEBHOOK_ALLOW_PRIVATE, parsed). */
  webhookAllow: Cidr[];
}

export const DEFAULT_LIMITS: ApiLimits = {
  rateLimitPerMin: 600,
  rateLimitBurst: 120,
  requestTimeoutMs: 30_000,
  corsOrigins: [],
  maxStreamsPerToken: 4,
  webhookAllow: [],
};

export function createApp(deps: {
  db: Pool;
  geo: GeoRuntime;
  verifyToken: TokenVerifier;
  metrics: Metrics;
  health: Health;
  log: Logger;
  limits?: Partial<ApiLimits>;
  /** Seals evidence bundles (src/evidence/seal.ts). */
  sealKey: SealKey;
  /** Signs acks to trackers and sites; its public half is published at /v1/ingest/key. */
  ackKey: OwnKey;
  /** CHECK_PARAMS: the global thresholds a logistics token may not loosen (api/policy-guard.ts). */
  checkParams?: Partial<CheckParams>;
  /** Told when a tracker's or site's MQTT credential is issued or ended; unset: the broker reads the database itself. */
  brokerAccess?: BrokerAccess;
}) {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = new OpenAPIHono<AppEnv>();
  registerSecurity(app);
  const limiter = createRateLimiter({ perMin: limits.rateLimitPerMin, burst: limits.rateLimitBurst });
  app.use(requestId());
  app.use(accessLog(deps.log));
  if (limits.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: limits.corsOrigins,
        allowHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'X-Request-Id'],
        exposeHeaders: [
          'X-Request-Id',
          'Location',
          'Retry-After',
          'RateLimit-Limit',
          'RateLimit-Remaining',
          'RateLimit-Reset',
        ],
        maxAge: 600,
      }),
    );
  }
  app.use(secureHeaders());
  app.use(requestTimeout(limits.requestTimeoutMs));
  app.use(
    bodyLimit({
      maxSize: 1024 * 1024,
      // The unread rest of the body makes the connection unusable: tell the client not to reuse it.
      onError: (c) =>
        c.json(errorBody('PAYLOAD_TOO_LARGE', 'request bodies are limited to 1 MiB'), 413, {
          Connection: 'close',
        }),
    }),
  );

  // Public paths are limited per client address; /v1 per token below.
  const publicLimit = rateLimit(limiter, (c) => ({ key: `ip:${clientAddress(c)}`, who: clientAddress(c) }));
  const isPublic = (path: string) => !path.startsWith('/v1/') || path === '/v1/ingest/key';
  app.use(async (c, next) => (isPublic(c.req.path) ? publicLimit(c, next) : next()));

  app.route('/', healthRouter(deps.health, deps.metrics));
  app.route(
    '/',
    docsRouter(() =>
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'chipwatch API',
          version: '1',
          description:
            'Where export-controlled AI chips are: shipments, positions, alerts, evidence. Errors are `{"error": {"code", "message"}}`; lists are `{"items", "nextCursor"}`.',
        },
      }),
    ),
  );

  // The dashboard's files are public; the API calls it makes carry the signed-in user's token.
  app.route('/', dashboardRouter(deps.geo));
  // The one public /v1 route (DESIGN.md): firmware fetches the ack key without a token. Mounted before authentication.
  app.route('/v1/ingest', ingestKeyRouter(deps.ackKey));
  app.use('/v1/*', authenticateAndLimit(authenticate(deps.verifyToken), limiter));
  const senders = { ackKey: deps.ackKey, access: deps.brokerAccess, log: deps.log };
  app.route('/v1/devices', devicesRouter(deps.db, senders));
  app.route('/v1/devices', replayWindowRouter(deps.db, 'device'));
  app.route('/v1/rejections', rejectionsRouter(deps.db));
  app.route('/v1/shipments', evidenceRouter(deps.db, deps.sealKey, deps.geo.policy));
  app.route('/v1/shipments', reportRouter(deps.db, deps.sealKey, deps.geo));
  app.route('/v1/evidence', evidenceKeyRouter(deps.sealKey));
  const corridors = createCorridorCache(deps.db, { log: deps.log });
  app.route(
    '/v1/shipments',
    shipmentsRouter(deps.db, { geo: deps.geo, checkParams: deps.checkParams ?? {} }, corridors),
  );
  app.route('/v1/licences', licencesRouter(deps.db));
  app.route('/v1/shipments', shipmentTrackRouter(deps.db, corridors));
  // Before /v1/alerts, whose /:id would take "stream".
  app.route(
    '/v1/alerts/stream',
    alertStreamRouter(deps.db, { maxStreamsPerToken: limits.maxStreamsPerToken }),
  );
  app.route('/v1/alerts', alertsRouter(deps.db));
  app.route('/v1/channels', channelsRouter(deps.db, { webhookAllow: limits.webhookAllow }));
  app.route('/v1/deliveries', deliveriesRouter(deps.db));
  app.route('/v1/zones', zonesRouter(deps.db, deps.geo));
  app.route('/v1/sites', sitesRouter(deps.db, deps.geo, senders));
  app.route('/v1/sites', replayWindowRouter(deps.db, 'site'));
  app.route('/v1/landmarks', landmarksRouter(deps.db));
  app.route('/v1/chips', chipsRouter(deps.db));
  app.route('/v1/policy', policyRouter(deps.geo));
  app.route('/v1/overview', overviewRouter(deps.db));

  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError(onError(deps.log));
  return app;
}

/**
 * 503 TIMEOUT when no response has begun within `ms`. The handler is not cancelled (its query runs on), but the
 * client is answered and the connection freed; a stream (SSE) counts as answered once its headers are sent.
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  return timeout(
    ms,
    () =>
      new HTTPException(503, {
        message: `no answer within ${ms} ms (REQUEST_TIMEOUT_MS); retry later, or ask for less (a shorter from…to range, a smaller limit)`,
      }),
  );
}

/**
 * An IPv6 client usually owns a whole /64: keyed by it, one host cannot mint a fresh bucket per address.
 * IPv4 (and IPv4-mapped IPv6) addresses are keyed as they are.
 */
export function addressKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The peer's address; not X-Forwarded-For, which any client can write (behind a proxy, all share its address). */
function clientAddress(c: Context): string {
  try {
    return addressKey(getConnInfo(c).remote.address ?? 'unknown');
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

/**
 * Authenticates, then limits per token `sub`. A request whose token fails counts against its address instead,
 * so guessing tokens is limited too, and a forged `sub` can neither dodge a limit nor drain someone else's.
 */
function authenticateAndLimit(
  auth: MiddlewareHandler<AppEnv>,
  limiter: RateLimiter,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    try {
      await auth(c, async () => {});
    } catch (err) {
      const d = limiter.take(`ip:${clientAddress(c)}`);
      if (!d.allowed) return tooManyRequests(c, d, clientAddress(c));
      throw err;
    }
    const { sub } = c.get('principal');
    const d = limiter.take(`sub:${sub}`);
    if (!d.allowed) return tooManyRequests(c, d, `token sub ${sub}`);
    setRateLimitHeaders(c, d);
    await next();
  };
}

/** Probes and metrics poll every few seconds: their lines are debug, every other request's info. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** One line per request, after it is answered (errors included): method, path, status, ms, request id, sub. */
export function accessLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const line = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      requestId: c.get('requestId'),
      sub: c.get('principal')?.sub,
    };
    if (QUIET_PATHS.has(line.path) && line.status < 400) log.debug(line, 'request');
    else log.info(line, 'request');
  };
}
