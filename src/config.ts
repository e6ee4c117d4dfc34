// The only reader of process.env: every setting typed, with its unit and default, validated at start.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { checkParamsSchema } from './checks/params.ts';
import { isCidr } from './domain/addresses.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .pipe(z.string().url().optional())
  .optional();

/** Each key: environment variable → unit, default, meaning. */
const schema = z.object({
  /** PostgreSQL URL; unset → embedded PostgreSQL in DATA_DIR/pg. */
  DATABASE_URL: optionalUrl,
  /** MQTT broker URL; unset → embedded aedes broker on MQTT_PORT. */
  MQTT_URL: optionalUrl,
  /** Port of the embedded MQTT broker (TCP). */
  MQTT_PORT: port.default(1883),
  /** chipwatch's own MQTT user name (ingest, alert dispatcher, tools acting as chipwatch). */
  MQTT_USERNAME: z.string().min(1).max(128).default('chipwatch'),
  /** chipwatch's own MQTT password; unset → MQTT_PASSWORD_FILE, else DATA_DIR/mqtt-service-password (generated once, mode 0600). */
  MQTT_PASSWORD: z.string().min(1).optional(),
  /** File holding chipwatch's own MQTT password (e.g. a Docker secret); read at start. */
  MQTT_PASSWORD_FILE: z.string().min(1).optional(),
  /** Embedded broker: PEM certificate (chain) for mqtts://; with MQTT_TLS_KEY_FILE, trackers connect over TLS only. */
  MQTT_TLS_CERT_FILE: z.string().min(1).optional(),
  /** Embedded broker: PEM private key of MQTT_TLS_CERT_FILE. */
  MQTT_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Embedded broker: TLS port; with TLS on, the plain MQTT_PORT listens on loopback only (chipwatch's own parts). */
  MQTT_TLS_PORT: port.default(8883),
  /** Embedded broker: largest MQTT packet a client may send, bytes (a 64 KiB JWS plus topic and headers). */
  MQTT_MAX_PACKET_BYTES: positiveInt.default(80 * 1024),
  /** Embedded broker: open connections at most, all clients together. */
  MQTT_MAX_CONNECTIONS: positiveInt.default(10_000),
  /** Embedded broker: open connections at most from one IP address (an IPv6 /64 counts as one). */
  MQTT_MAX_CONNECTIONS_PER_ADDRESS: positiveInt.default(500),
  /** Embedded broker: a client must send a keepalive at least this often (0 = never is refused), seconds. */
  MQTT_MAX_KEEPALIVE_S: positiveInt.default(600),
  /** Embedded broker: a connection that has not sent CONNECT after this long is closed, seconds. */
  MQTT_CONNECT_TIMEOUT_S: positiveInt.default(10),
  /** Embedded broker: QoS 1 messages kept per persistent session while its client is away (oldest dropped beyond). */
  MQTT_SESSION_QUEUE_MAX: positiveInt.default(10_000),
  /** Embedded broker: payload bytes kept per persistent session while its client is away (oldest dropped beyond). */
  MQTT_SESSION_QUEUE_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** Embedded broker: how often rotations and revocations made by other processes are applied, seconds. */
  MQTT_ACCESS_SWEEP_S: positiveInt.default(2),
  /** Host the embedded broker and the HTTP API bind to. */
  BIND_HOST: z.string().default('0.0.0.0'),
  /** HTTP API port. */
  HTTP_PORT: port.default(8080),
  /** Port of the embedded PostgreSQL (loopback only). */
  EMBEDDED_PG_PORT: port.default(5433),
  /** Folder for the embedded database and the generated secret. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** HS256 secret for API tokens (≥ 32 characters); unset → generated into DATA_DIR/jwt-secret. */
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** File holding AUTH_JWT_SECRET (e.g. a Docker secret, /run/secrets/jwt-secret); read at start, used when AUTH_JWT_SECRET is unset. */
  AUTH_JWT_SECRET_FILE: z.string().min(1).optional(),
  /** OIDC JWKS URL; when set, tokens are verified against it instead of the secret. */
  AUTH_JWKS_URL: optionalUrl,
  /** Expected `iss` of API tokens. */
  AUTH_ISSUER: z.string().min(1).default('chipwatch'),
  /** Longest lifetime of an API token (exp − iat, and exp − now), seconds; longer ones are refused with 401. */
  AUTH_TOKEN_MAX_TTL_S: positiveInt.default(30 * 86_400),
  /** Live alert streams (SSE) one token subject may hold open at once; one more is refused with 429. */
  SSE_MAX_STREAMS_PER_TOKEN: positiveInt.default(4),
  /** MQTT topic prefix. */
  MQTT_TOPIC_PREFIX: z
    .string()
    .regex(/^[^#+]+[^/#+]$/, 'must be a topic prefix without wildcards or trailing slash')
    .default('chipwatch/v1'),
  /** Fixed MQTT client id of this ingest worker (persistent session). */
  MQTT_CLIENT_ID: z.string().min(1).max(64).default('chipwatch-ingest'),
  /** Shared-subscription group; set to let several ingest workers share the load. */
  MQTT_SHARED_GROUP: z
    .string()
    .regex(/^[^/#+]+$/)
    .optional(),
  /**
   * How several ingest workers split the messages. `subscription`: each handles what its MQTT subscription delivers
   * (everything, or its share with MQTT_SHARED_GROUP — round-robin per message on Mosquitto, so one tracker's
   * messages may be handled out of order). `by-sender`: each reads every message and handles only the trackers and
   * sites it owns among the live workers (leases in the database), so each sender's messages stay in order.
   */
  INGEST_ROUTING: z.enum(['subscription', 'by-sender']).default('subscription'),
  /** INGEST_ROUTING=by-sender: a worker not heard from for this long is gone and its senders move, seconds. */
  INGEST_WORKER_LEASE_S: positiveInt.max(3600).default(10),
  /** Mosquitto dynamic-security admin: set it and chipwatch creates the broker's clients and roles (src/broker/dynsec.ts). */
  MQTT_DYNSEC_ADMIN_USERNAME: z.string().min(1).optional(),
  /** Password of MQTT_DYNSEC_ADMIN_USERNAME. */
  MQTT_DYNSEC_ADMIN_PASSWORD: z.string().min(1).optional(),
  /** File holding that password (e.g. written by deploy/mosquitto/init.sh); used when MQTT_DYNSEC_ADMIN_PASSWORD is unset. */
  MQTT_DYNSEC_ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
  /** Micro-batch: flush after this many messages. */
  INGEST_BATCH_MAX: positiveInt.default(1000),
  /** Micro-batch: flush after this many milliseconds. */
  INGEST_BATCH_MS: positiveInt.default(20),
  /** Messages held in memory before chipwatch stops reading from the broker (backpressure). */
  INGEST_QUEUE_MAX: positiveInt.default(6000),
  /** Worker threads verifying Ed25519 signatures with libsodium; 0 → node:crypto on libuv's thread pool. Default: one per core. */
  VERIFY_WORKERS: z.coerce.number().int().min(0).max(64).default(Math.max(1, availableParallelism())),
  /** Largest accepted message, bytes. */
  INGEST_MAX_MESSAGE_BYTES: positiveInt.default(64 * 1024),
  /** Raw bytes of a rejected message kept as evidence, bytes. */
  REJECTION_RAW_CAP_BYTES: positiveInt.default(64 * 1024),
  /** Raw bytes kept of an unauthenticated refused message (junk is stored as a row with a small sample), bytes. */
  REJECTION_UNAUTHENTICATED_RAW_CAP_BYTES: positiveInt.default(512),
  /** Unauthenticated refusals per source and minute that keep a raw sample at all. */
  REJECTION_SAMPLES_PER_SOURCE_PER_MIN: positiveInt.default(20),
  /** Unauthenticated refusals older than this are deleted, days (authenticated senders' messages are never pruned). */
  REJECTION_RETENTION_DAYS: positiveInt.default(90),
  /** How far a record's `ts` may lie ahead of the receiver's clock, seconds. */
  MAX_CLOCK_SKEW_S: positiveInt.max(86_400).default(300),
  /** Policy file of restricted, licence-required and watch countries; unset → policy/default-policy.json. */
  CW_POLICY: z.string().min(1).optional(),
  /** Ed25519 PKCS#8 PEM that seals evidence bundles; unset → DATA_DIR/evidence-signing-key.pem, generated once. */
  EVIDENCE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Ed25519 PKCS#8 PEM that signs acks to trackers and sites; unset → DATA_DIR/ack-signing-key.pem, generated once. */
  ACK_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** How far above its highest seq one message may move a sender's seq; beyond it the message is refused SEQ_JUMP. */
  MAX_SEQ_JUMP: positiveInt.default(1_000_000),
  /** Natural Earth resolution of the country polygons. */
  ZONES_RESOLUTION: z.enum(['50m', '10m']).default('10m'),
  /** How often custom zones added by other processes are picked up, seconds. */
  ZONES_RELOAD_S: positiveInt.default(30),
  /** How often silent in-transit shipments are looked for (SIGNAL_LOST), seconds. */
  SIGNAL_LOST_SWEEP_S: positiveInt.default(15),
  /** Check thresholds for every shipment, as JSON (e.g. {"stopMinutesWatch": 90}); a shipment's params override them. */
  CHECK_PARAMS: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(checkParamsSchema),
  /** API requests a minute per token (`sub`), or per client address where there is no valid token; average rate. */
  RATE_LIMIT_PER_MIN: positiveInt.default(600),
  /** API requests allowed at once before the per-minute rate applies (token bucket size). */
  RATE_LIMIT_BURST: positiveInt.default(120),
  /** An API request still unanswered after this many milliseconds gets 503 TIMEOUT. */
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  /** Origins allowed to call the API from a browser (comma-separated, e.g. https://ops.example.com); empty: CORS off. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().url('each CORS origin must be a URL such as https://ops.example.com'))),
  /** Alert delivery: run the outbox dispatcher in this process (several processes may). */
  DISPATCHER: z.enum(['on', 'off']).default('on'),
  /** Alert delivery: how often the dispatcher looks for work when no NOTIFY woke it, ms. */
  DISPATCH_POLL_MS: positiveInt.default(1000),
  /** Alert delivery: deliveries claimed and sent concurrently per round. */
  DISPATCH_BATCH: positiveInt.max(1000).default(20),
  /** Alert delivery: attempts before a delivery is parked as dead. */
  DELIVERY_MAX_ATTEMPTS: positiveInt.default(12),
  /** Alert delivery: first retry delay, doubled per attempt (with jitter), ms. */
  DELIVERY_BACKOFF_BASE_MS: positiveInt.default(1000),
  /** Alert delivery: longest retry delay, ms. */
  DELIVERY_BACKOFF_MAX_MS: positiveInt.default(15 * 60_000),
  /** Alert delivery: timeout of one webhook POST (also bounds an MQTT publish and each SMTP step), ms. */
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  /** Alert delivery: CIDRs webhooks may reach though private, loopback or link-local (comma-separated, e.g. 10.0.0.0/8,::1/128); empty: none. */
  WEBHOOK_ALLOW_PRIVATE: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isCidr, 'each entry must be a CIDR such as 10.0.0.0/8 or fd00::/8'))),
  /** Alert delivery: SMTP server for e-mail channels (smtp://user:pass@host:587, smtps://…:465). */
  SMTP_URL: optionalUrl,
  /** Alert delivery: From of alert e-mails. */
  SMTP_FROM: z.string().min(3).default('chipwatch <chipwatch@localhost>'),
  /** Alert delivery: evidence older than this when first seen is notified as late, seconds. */
  ALERT_LATE_AFTER_S: positiveInt.default(3600),
  /** TimescaleDB retention: telemetry, signed messages and attestations older than this are dropped, days (0: keep all; plain PostgreSQL keeps all). Default 5 years (15 CFR 762.6). */
  RETENTION_DAYS: z.coerce.number().int().min(0).default(1827),
  /** Delivered notifications and their outbox events are deleted after this many days (dead ones are kept). */
  DELIVERY_RETENTION_DAYS: positiveInt.default(30),
  /** Database pool size. */
  DB_POOL_MAX: positiveInt.default(8),
  /** Log level (pino). */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Which parts this process runs: all, ingest, api (comma-separated). */
  CHIPWATCH_PARTS: z
    .string()
    .default('all')
    .transform((s) => s.split(',').map((p) => p.trim()))
    .pipe(z.array(z.enum(['all', 'ingest', 'api']))),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** AUTH_JWT_SECRET from AUTH_JWT_SECRET_FILE when only the file is given (trailing newline dropped). */
function withSecretFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.AUTH_JWT_SECRET_FILE;
  if (!file || env.AUTH_JWT_SECRET) return env;
  try {
    return { ...env, AUTH_JWT_SECRET: readFileSync(file, 'utf8').trim() };
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  AUTH_JWT_SECRET_FILE: cannot read ${file}: ${(err as Error).message}`,
    );
  }
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(withSecretFile(env));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (result.data.INGEST_ROUTING === 'by-sender' && result.data.MQTT_SHARED_GROUP)
    throw new ConfigError(
      'invalid configuration:\n  MQTT_SHARED_GROUP: unset it with INGEST_ROUTING=by-sender (every worker reads every message and keeps its own senders)',
    );
  return result.data;
}
