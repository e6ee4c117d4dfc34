// The embedded MQTT broker for the default mode: aedes in-process, in-memory persistence, as a trust boundary.
// Every client authenticates (src/broker/aedes-gate.ts: trackers and sites from the database, chipwatch's parts as
// its service user) and gets least privilege (src/broker/acl.ts). What one client can cost is bounded: packet size
// (checked on the header, before any body is buffered), connections in total and per address, keepalive, time to
// CONNECT, and what a persistent session keeps while away. With a certificate and key it serves mqtts://, and the
// plain port then listens on loopback only, for chipwatch's own parts.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import type { BrokerAccess } from '../broker/access.ts';
import { aedesAccess } from '../broker/aedes-access.ts';
import { BrokerGate, type CredentialSource, type GateClient } from '../broker/aedes-gate.ts';
import { PacketSizeGuard } from '../broker/packet-guard.ts';
import { generatePassword } from '../broker/password.ts';
import type { ServiceCredentials } from '../broker/service-credentials.ts';
import { boundSessionQueues, type OutgoingQueue, type QueueTotals } from '../broker/session-quota.ts';
import type { Config } from '../config.ts';
import { mqttCredentialChanges, mqttCredentialsFor } from '../db/mqtt-credentials.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../log.ts';

export interface BrokerLimits {
  maxPacketBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxKeepaliveS: number;
  connectTimeoutS: number;
  sessionQueueMax: number;
  sessionQueueMaxBytes: number;
}

/** The defaults of config.ts. */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 80 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 500,
  maxKeepaliveS: 600,
  connectTimeoutS: 10,
  sessionQueueMax: 10_000,
  sessionQueueMaxBytes: 64 * 1024 * 1024,
};

export function brokerLimits(c: Config): BrokerLimits {
  return {
    maxPacketBytes: c.MQTT_MAX_PACKET_BYTES,
    maxConnections: c.MQTT_MAX_CONNECTIONS,
    maxConnectionsPerAddress: c.MQTT_MAX_CONNECTIONS_PER_ADDRESS,
    maxKeepaliveS: c.MQTT_MAX_KEEPALIVE_S,
    connectTimeoutS: c.MQTT_CONNECT_TIMEOUT_S,
    sessionQueueMax: c.MQTT_SESSION_QUEUE_MAX,
    sessionQueueMaxBytes: c.MQTT_SESSION_QUEUE_MAX_BYTES,
  };
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  topicPrefix?: string;
  /** chipwatch's own user; unset → a random one for this run (see `service` on the result). */
  service?: ServiceCredentials;
  /** Where trackers' and sites' credentials are read; unset → only the service user may connect. */
  credentials?: CredentialSource;
  limits?: Partial<BrokerLimits>;
  tls?: { certFile: string; keyFile: string; port: number };
  /** How often rotations and revocations of other processes are applied, ms. */
  sweepMs?: number;
  /**
   * How long a tracker's, a site's or an anonymous client's socket may stay full (not read) before aedes drops it,
   * ms (default DEFAULT_DRAIN_TIMEOUT_MS). chipwatch's own service connections never time out: see startEmbeddedBroker.
   */
  drainTimeoutMs?: number;
  /**
   * Bench only (startChipwatch's `benchmarkOnly.openEdge`, bench/ingest.bench.ts), never from configuration: aedes
   * without the authenticate / authorize hooks — anyone may connect, publish and subscribe anywhere, as before
   * issue 12 — so the bench can measure what authentication costs.
   */
  benchmarkOnlyOpen?: boolean;
  log?: Logger;
}

/** aedes' drainTimeout for everyone but chipwatch's own connections (aedes' default is 60 s). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface EmbeddedBroker {
  /** Plain MQTT (loopback only when TLS is on), without credentials. */
  url: string;
  port: number;
  /** mqtts:// for trackers, when TLS is on. */
  tlsUrl?: string;
  tlsPort?: number;
  service: ServiceCredentials;
  /** Grant and revoke as the API calls them (src/broker/access.ts). */
  access: BrokerAccess;
  /** Picks up rotations and revocations now (also runs every sweepMs). */
  sweep(): Promise<number>;
  /** Open connections; messages and payload bytes held for persistent sessions, in all and in the fullest one. */
  stats(): { connections: number; queued: QueueTotals };
  stop(): Promise<void>;
}

/** Credentials from chipwatch's database; `pool` may be a getter (a test broker started before its database). */
export function dbCredentialSource(pool: Pool | (() => Pool | undefined)): CredentialSource {
  const get = () => {
    const p = typeof pool === 'function' ? pool() : pool;
    if (!p) throw new Error('no database attached to the MQTT broker yet');
    return p;
  };
  return {
    lookup: (username) => mqttCredentialsFor(get(), username),
    changes: (since) => mqttCredentialChanges(get(), since),
  };
}

/** One IPv6 host usually owns a /64: counted as one address. */
function addressOf(socket: net.Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  if (!a.includes(':') || a.startsWith('::ffff:')) return a;
  return `${a.split(':').slice(0, 4).join(':')}::/64`;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const limits = { ...DEFAULT_BROKER_LIMITS, ...opts.limits };
  const service = opts.service ?? { username: 'chipwatch', password: generatePassword() };
  const gate = new BrokerGate({
    prefix: opts.topicPrefix ?? 'chipwatch/v1',
    service,
    source: opts.credentials,
    log: opts.log,
  });
  // A client whose socket stays full (it does not read) holds aedes' delivery slots (100 for the whole broker)
  // until `drainTimeout`, then it is dropped. A tracker, a site or anyone else gets drainTimeoutMs: a dead link or a
  // tracker that stops reading cannot stall every delivery for long, nor hold memory. chipwatch's service
  // connections (ingest, dispatcher) get none: ingest pauses its socket on purpose when its queue is full or the
  // database is down (backpressure, src/ingest/mqtt-session.ts), for as long as that lasts; dropping it would throw
  // away what the broker had already sent it and make every tracker resend. While it is paused, deliveries wait and
  // PUBACKs to trackers are held: what the broker holds stays bounded by aedes' slots and the sockets' buffers.
  const drainTimeout = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const authenticate: typeof gate.authenticate = (client, username, password, done) =>
    gate.authenticate(client, username, password, (err, ok) => {
      if (ok && gate.principalOf(client)?.kind === 'service') waitForDrainForever(client);
      done(err, ok);
    });
  const hooks = opts.benchmarkOnlyOpen
    ? {}
    : {
        authenticate: authenticate as never,
        authorizePublish: gate.authorizePublish as never,
        authorizeSubscribe: gate.authorizeSubscribe as never,
        authorizeForward: gate.authorizeForward as never,
      };
  const broker = await Aedes.createBroker({
    heartbeatInterval: 60_000,
    connectTimeout: limits.connectTimeoutS * 1000,
    keepaliveLimit: limits.maxKeepaliveS,
    drainTimeout,
    ...hooks,
  });
  broker.on('clientDisconnect', (c) => gate.forget(c as unknown as GateClient));
  const queues = boundSessionQueues((broker as unknown as { persistence: OutgoingQueue }).persistence, {
    maxMessages: limits.sessionQueueMax,
    maxBytes: limits.sessionQueueMaxBytes,
    onDrop: (clientId, dropped) =>
      opts.log?.debug({ clientId, dropped }, 'MQTT session queue full; oldest messages dropped'),
  });

  let connections = 0;
  const perAddress = new Map<string, number>();
  const accept = (socket: net.Socket) => {
    const address = addressOf(socket);
    const fromAddress = perAddress.get(address) ?? 0;
    if (connections >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    connections++;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      connections--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
    guardPacketSize(socket, limits.maxPacketBytes);
    // Acks are small and latency-bound: no Nagle delay.
    socket.setNoDelay(true);
    broker.handle(socket);
  };

  const tlsOn = opts.tls !== undefined;
  const plainHost = tlsOn ? '127.0.0.1' : opts.host;
  const plain = net.createServer(accept);
  const port = await listen(plain, opts.port, plainHost, 'MQTT_PORT');
  let secure: tls.Server | undefined;
  let tlsPort: number | undefined;
  if (opts.tls) {
    secure = tls.createServer(
      { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile), minVersion: 'TLSv1.2' },
      accept,
    );
    // A failed handshake is the client's problem, not the process's.
    secure.on('tlsClientError', () => {});
    tlsPort = await listen(secure, opts.tls.port, opts.host, 'MQTT_TLS_PORT');
  }

  const sweepTimer = setInterval(
    () =>
      gate
        .sweep()
        .catch((err) => opts.log?.warn({ err: (err as Error).message }, 'MQTT access sweep failed')),
    opts.sweepMs ?? 2000,
  );
  sweepTimer.unref();

  const connectHost = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
  return {
    url: `mqtt://${connectHost(plainHost)}:${port}`,
    port,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://${connectHost(opts.host)}:${tlsPort}`, tlsPort } : {}),
    service,
    access: aedesAccess(gate),
    sweep: () => gate.sweep(),
    stats: () => ({ connections, queued: queues.queued() }),
    stop: async () => {
      clearInterval(sweepTimer);
      await new Promise<void>((r) => broker.close(() => r()));
      await Promise.all(
        [plain, secure].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve())),
      );
    },
  };
}

/**
 * aedes' own wait without a timeout (lib/client.js waitForDrain with drainTimeout 0), for this client only: lib/write.js
 * calls `client.waitForDrain(done)` when a write to the client's socket returns false.
 */
function waitForDrainForever(client: GateClient): void {
  const c = client as unknown as { conn: net.Socket; waitForDrain(done: () => void): void };
  c.waitForDrain = (done) => {
    c.conn.once('drain', done);
  };
}

/**
 * Closes the connection at the first packet header announcing more than `maxBytes`. Every received chunk passes
 * through the socket's own push(), before aedes reads it: the guard sees the bytes without another stream in between.
 */
function guardPacketSize(socket: net.Socket, maxBytes: number): void {
  const guard = new PacketSizeGuard(maxBytes);
  const push = socket.push.bind(socket);
  socket.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk instanceof Uint8Array && !guard.feed(chunk)) {
      socket.destroy();
      return false;
    }
    return push(chunk, encoding);
  };
}

async function listen(server: net.Server, port: number, host: string, variable: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} is in use: set ${variable} to a free port, or MQTT_URL to use another broker`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}
