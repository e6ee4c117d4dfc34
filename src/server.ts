// Starts the parts the configuration asks for — embedded database and broker when no URL is given, migrations,
// ingest, API — and stops them in the reverse order: stop reading, commit the in-flight batch, then close.

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { startSignalLostTimer } from './alerts/signal-lost.ts';
import { createApp } from './api/app.ts';
import { createTokenVerifier, resolveJwtSecret } from './auth.ts';
import type { Config } from './config.ts';
import { hasTimescale, ping } from './db/health.ts';
import { migrate } from './db/migrate.ts';
import { createPool, type Pool } from './db/pool.ts';
import { applyRetention, failedTimescaleJobs } from './db/timescale.ts';
import { listCustomZones } from './db/zones.ts';
import { dispatcherSettings, startDispatcher } from './delivery/dispatcher.ts';
import { parseAllowList } from './delivery/webhook-target.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded/broker.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from './embedded/postgres.ts';
import { loadSealKey } from './evidence/seal.ts';
import { createGeoRuntime } from './geo/runtime.ts';
import { type Ingest, startIngest } from './ingest/ingest.ts';
import { loadOwnKey } from './keyfile.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { ACK_KEY_FILE } from './verify/ack.ts';

export interface Running {
  databaseUrl: string;
  mqttUrl: string;
  httpUrl?: string;
  pool: Pool;
  /** The HTTP app, when this process runs the API (tests list its routes). */
  app?: ReturnType<typeof createApp>;
  stop(): Promise<void>;
}

export async function startChipwatch(config: Config, log: Logger): Promise<Running> {
  const parts = new Set(config.CHIPWATCH_PARTS.includes('all') ? ['ingest', 'api'] : config.CHIPWATCH_PARTS);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    let embeddedPg: EmbeddedPg | undefined;
    if (!config.DATABASE_URL) {
      embeddedPg = await startEmbeddedPostgres({
        dataDir: `${config.DATA_DIR}/pg`,
        port: config.EMBEDDED_PG_PORT,
        log: log.child({ part: 'postgres' }),
      });
      stops.push(() => embeddedPg!.stop());
      log.info({ url: embeddedPg.url.replace(/:[^:@/]+@/, ':***@') }, 'embedded PostgreSQL listening');
    }
    const databaseUrl = config.DATABASE_URL ?? embeddedPg!.url;
    const applied = await migrate(databaseUrl, log);
    if (applied.length) log.info({ applied }, 'migrations applied');
    const pool = createPool(databaseUrl, config.DB_POOL_MAX);
    stops.push(() => pool.end());
    const retained = await applyRetention(pool, config.RETENTION_DAYS);
    log.info(
      { timescaledb: await hasTimescale(pool), retentionDays: config.RETENTION_DAYS, retained },
      'database ready',
    );

    let broker: EmbeddedBroker | undefined;
    if (!config.MQTT_URL) {
      broker = await startEmbeddedBroker({ host: config.BIND_HOST, port: config.MQTT_PORT });
      stops.push(() => broker!.stop());
      log.info(
        { url: `mqtt://${config.BIND_HOST}:${broker.port}` },
        'embedded MQTT broker (aedes) listening',
      );
    }
    const mqttUrl = config.MQTT_URL ?? broker!.url;
    const metrics = createMetrics();
    const ackKey = loadOwnKey(config.ACK_SIGNING_KEY_FILE, config.DATA_DIR, ACK_KEY_FILE, 'ack signing key');
    const geo = createGeoRuntime({ policyPath: config.CW_POLICY, resolution: config.ZONES_RESOLUTION });
    geo.setCustomZones(await listCustomZones(pool));
    const reload = setInterval(
      () =>
        listCustomZones(pool)
          .then((rows) => geo.setCustomZones(rows))
          .catch(() => {}),
      config.ZONES_RELOAD_S * 1000,
    );
    reload.unref();
    stops.push(async () => clearInterval(reload));

    // Before ingest, so it stops after ingest's last batch and sends what that batch raised.
    if (config.DISPATCHER === 'on') {
      const dispatcher = startDispatcher({
        pool,
        databaseUrl,
        settings: dispatcherSettings(config, mqttUrl),
        log: log.child({ part: 'dispatcher' }),
        metrics,
      });
      stops.push(() => dispatcher.stop());
    }

    let ingest: Ingest | undefined;
    if (parts.has('ingest')) {
      ingest = await startIngest({ config, pool, mqttUrl, log: log.child({ part: 'ingest' }), metrics, geo });
      const stopTimer = startSignalLostTimer(
        pool,
        log.child({ part: 'signal-lost' }),
        config.SIGNAL_LOST_SWEEP_S * 1000,
      );
      stops.push(async () => stopTimer());
      stops.push(() => ingest!.stop());
      log.info(
        {
          broker: mqttUrl.replace(/:[^:@/]+@/, ':***@'),
          topic: `${config.MQTT_TOPIC_PREFIX}/devices/+/telemetry`,
        },
        'ingest subscribed',
      );
    }

    let httpUrl: string | undefined;
    let api: ReturnType<typeof createApp> | undefined;
    if (parts.has('api')) {
      const secret = config.AUTH_JWKS_URL
        ? undefined
        : resolveJwtSecret(config.AUTH_JWT_SECRET, config.DATA_DIR);
      const app = createApp({
        db: pool,
        geo,
        verifyToken: createTokenVerifier({
          secret,
          jwksUrl: config.AUTH_JWKS_URL,
          issuer: config.AUTH_ISSUER,
          maxTtlS: config.AUTH_TOKEN_MAX_TTL_S,
        }),
        metrics,
        log: log.child({ part: 'api' }),
        sealKey: loadSealKey(config.EVIDENCE_SIGNING_KEY_FILE, config.DATA_DIR),
        ackKey,
        checkParams: config.CHECK_PARAMS,
        health: {
          database: async () => {
            try {
              await ping(pool);
              return ingest ? ingest.databaseUp() : true;
            } catch {
              return false;
            }
          },
          broker: () => (ingest ? ingest.session.connected : true),
          timescaleJobs: () => failedTimescaleJobs(pool),
        },
        limits: {
          rateLimitPerMin: config.RATE_LIMIT_PER_MIN,
          rateLimitBurst: config.RATE_LIMIT_BURST,
          requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
          corsOrigins: config.CORS_ORIGINS,
          maxStreamsPerToken: config.SSE_MAX_STREAMS_PER_TOKEN,
          webhookAllow: parseAllowList(config.WEBHOOK_ALLOW_PRIVATE),
        },
      });
      api = app;
      const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
        const s = serve(
          {
            fetch: app.fetch,
            port: config.HTTP_PORT,
            hostname: config.BIND_HOST,
            // Slow clients (slowloris) must not hold sockets: headers within 10 s, a whole request (≤ 1 MiB) within
            // 30 s. Responses are bounded by REQUEST_TIMEOUT_MS in the app; SSE streams are not cut by either.
            serverOptions: { headersTimeout: 10_000, requestTimeout: 30_000 },
          },
          () => resolve(s),
        );
        s.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'EADDRINUSE'
              ? new Error(`HTTP port ${config.HTTP_PORT} is in use: set HTTP_PORT`)
              : err,
          ),
        );
      });
      const port = (server.address() as AddressInfo).port;
      httpUrl = `http://127.0.0.1:${port}`;
      stops.push(
        () =>
          new Promise<void>((r) => {
            server.close(() => r());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      );
      log.info({ url: `http://${config.BIND_HOST}:${port}` }, 'HTTP API listening');
    }
    // Stop order: API, ingest (drain and commit), dispatcher, broker, pool, database.
    const order = [...stops];
    return {
      databaseUrl,
      mqttUrl,
      app: api,
      httpUrl,
      pool,
      stop: async () => {
        stops.length = 0;
        for (const stop of order.reverse())
          await stop().catch((err) => log.error({ err }, 'error while stopping'));
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
