// Starts the parts the configuration asks for — embedded database and broker when no URL is given, migrations,
// ingest, API — and stops them in the reverse order: stop reading, commit the in-flight batch, then close.

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { startSignalLostTimer } from './alerts/signal-lost.ts';
import { createApp } from './api/app.ts';
import { createTokenVerifier, resolveJwtSecret } from './auth.ts';
import type { BrokerAccess } from './broker/access.ts';
import { DynsecAccess, dynsecAdminFromConfig } from './broker/dynsec.ts';
import { serviceCredentials, withCredentials } from './broker/service-credentials.ts';
import type { Config } from './config.ts';
import { hasTimescale, ping } from './db/health.ts';
import { migrate } from './db/migrate.ts';
import { createPool, type Pool } from './db/pool.ts';
import { applyRetention, failedTimescaleJobs } from './db/timescale.ts';
import { listCustomZones } from './db/zones.ts';
import { dispatcherSettings, startDispatcher } from './delivery/dispatcher.ts';
import { parseAllowList } from './delivery/webhook-target.ts';
import {
  brokerLimits,
  dbCredentialSource,
  type EmbeddedBroker,
  startEmbeddedBroker,
} from './embedded/broker.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from './embedded/postgres.ts';
import { loadSealKey } from './evidence/seal.ts';
import { createGeoRuntime } from './geo/runtime.ts';
import { type Ingest, startIngest } from './ingest/ingest.ts';
import { loadOwnKey, type OwnKey } from './keyfile.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { ACK_KEY_FILE } from './verify/ack.ts';

export interface Running {
  databaseUrl: string;
  mqttUrl: string;
  /** The embedded broker's mqtts:// URL, when it serves TLS. */
  mqttTlsUrl?: string;
  httpUrl?: string;
  pool: Pool;
  /** The HTTP app, when this process runs the API (tests list its routes). */
  app?: ReturnType<typeof createApp>;
  /** The public half of the ack key (GET /v1/ingest/key): what trackers pin. */
  ackKey: OwnKey['publicJwk'];
  /** This process's metrics (also served at /metrics by the API). */
  metrics: ReturnType<typeof createMetrics>;
  stop(): Promise<void>;
}

/** In-process only, never from configuration or the environment. */
export interface StartOptions {
  /**
   * bench/ingest.bench.ts only: `openEdge` = the MQTT edge as before issue 12, the embedded broker without
   * authentication or ACLs (anyone may connect, publish, subscribe) and unsigned JSON acks, to measure their cost.
   */
  benchmarkOnly?: { openEdge?: boolean };
}

export async function startChipwatch(config: Config, log: Logger, opts: StartOptions = {}): Promise<Running> {
  const openEdge = opts.benchmarkOnly?.openEdge === true;
  if (openEdge && config.MQTT_URL) throw new Error('benchmarkOnly.openEdge needs the embedded broker');
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
    // On Mosquitto with the dynamic-security plugin chipwatch creates its own user and every tracker's (src/broker/dynsec.ts).
    const dynsecAdmin = config.MQTT_URL ? dynsecAdminFromConfig(config) : undefined;
    // chipwatch's own MQTT user: ingest, the dispatcher and tools acting as chipwatch connect with it.
    const service = serviceCredentials(
      {
        username: config.MQTT_USERNAME,
        password: config.MQTT_PASSWORD,
        passwordFile: config.MQTT_PASSWORD_FILE,
        dataDir: config.DATA_DIR,
      },
      !config.MQTT_URL || dynsecAdmin !== undefined,
    );
    // Who may use the broker, told as devices and sites are registered, rotated and revoked (src/broker/access.ts).
    let brokerAccess: BrokerAccess | undefined;
    if (!config.MQTT_URL) {
      broker = await startEmbeddedBroker({
        host: config.BIND_HOST,
        port: config.MQTT_PORT,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        service,
        credentials: dbCredentialSource(pool),
        limits: brokerLimits(config),
        tls:
          config.MQTT_TLS_CERT_FILE && config.MQTT_TLS_KEY_FILE
            ? {
                certFile: config.MQTT_TLS_CERT_FILE,
                keyFile: config.MQTT_TLS_KEY_FILE,
                port: config.MQTT_TLS_PORT,
              }
            : undefined,
        sweepMs: config.MQTT_ACCESS_SWEEP_S * 1000,
        benchmarkOnlyOpen: openEdge,
        log: log.child({ part: 'broker' }),
      });
      brokerAccess = broker.access;
      stops.push(() => broker!.stop());
      log.info({ url: broker.url, tls: broker.tlsUrl }, 'embedded MQTT broker (aedes) listening');
    } else if (dynsecAdmin) {
      const dynsec = await DynsecAccess.connect({
        url: config.MQTT_URL,
        ...dynsecAdmin,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        reservedIds: [config.MQTT_CLIENT_ID, config.MQTT_USERNAME],
      });
      stops.push(() => dynsec.close());
      if (service) await dynsec.provisionService(service.username, service.password);
      brokerAccess = dynsec;
      log.info(
        { url: config.MQTT_URL },
        'Mosquitto dynamic security: chipwatch manages its clients and roles',
      );
    }
    const mqttUrl = config.MQTT_URL ?? broker!.url;
    const serviceMqttUrl = withCredentials(mqttUrl, service);
    const metrics = createMetrics();
    const ackKey = loadOwnKey(config.ACK_SIGNING_KEY_FILE, config.DATA_DIR, ACK_KEY_FILE, 'ack signing key');
    if (openEdge) log.warn('BENCHMARK ONLY: open MQTT edge, no authentication, unsigned acks');
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
        settings: dispatcherSettings(config, serviceMqttUrl),
        log: log.child({ part: 'dispatcher' }),
        metrics,
      });
      stops.push(() => dispatcher.stop());
    }

    let ingest: Ingest | undefined;
    if (parts.has('ingest')) {
      ingest = await startIngest({
        config,
        pool,
        mqttUrl: serviceMqttUrl,
        log: log.child({ part: 'ingest' }),
        metrics,
        geo,
        ackKey: openEdge ? { ...ackKey, benchmarkOnlyUnsigned: true } : ackKey,
      });
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
        brokerAccess,
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
      mqttTlsUrl: broker?.tlsUrl,
      ackKey: ackKey.publicJwk,
      metrics,
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
