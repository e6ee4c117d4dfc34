// The HTTP API: one Hono app, one router per resource, errors as JSON in one place.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { TokenVerifier } from '../auth.ts';
import type { Pool } from '../db/pool.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { type AppEnv, authenticate } from './auth.ts';
import { dashboardRouter, policyRouter } from './dashboard.ts';
import { errorBody, onError } from './errors.ts';
import { alertsRouter } from './routes/alerts.ts';
import { devicesRouter } from './routes/devices.ts';
import { evidenceRouter } from './routes/evidence.ts';
import { rejectionsRouter } from './routes/rejections.ts';
import { shipmentsRouter } from './routes/shipments.ts';
import { chipsRouter, landmarksRouter, sitesRouter } from './routes/sites.ts';
import { zonesRouter } from './routes/zones.ts';

export interface Health {
  /** Database answers a query now. */
  database(): Promise<boolean>;
  /** Broker connection of ingest is up (true when this process runs no ingest). */
  broker(): boolean;
}

export function createApp(deps: {
  db: Pool;
  geo: GeoRuntime;
  verifyToken: TokenVerifier;
  metrics: Metrics;
  health: Health;
  log: Logger;
}) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(secureHeaders());
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

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [database, broker] = [await deps.health.database(), deps.health.broker()];
    const ready = database && broker;
    return c.json({ status: ready ? 'ready' : 'not ready', database, broker }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  // The dashboard's files are public; the API calls it makes carry the signed-in user's token.
  app.route('/', dashboardRouter(deps.geo));
  app.use('/v1/*', authenticate(deps.verifyToken));
  app.route('/v1/devices', devicesRouter(deps.db));
  app.route('/v1/rejections', rejectionsRouter(deps.db));
  app.route('/v1/shipments', evidenceRouter(deps.db));
  app.route('/v1/shipments', shipmentsRouter(deps.db));
  app.route('/v1/alerts', alertsRouter(deps.db));
  app.route('/v1/zones', zonesRouter(deps.db, deps.geo));
  app.route('/v1/sites', sitesRouter(deps.db, deps.geo));
  app.route('/v1/landmarks', landmarksRouter(deps.db));
  app.route('/v1/chips', chipsRouter(deps.db));
  app.route('/v1/policy', policyRouter(deps.geo));

  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError(onError(deps.log));
  return app;
}
