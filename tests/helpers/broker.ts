// Real MQTT brokers for tests: aedes in-process (chipwatch's embedded default) and Mosquitto as a child process
// with the same settings as deploy/mosquitto.conf. Under CI=true a missing Mosquitto fails instead of skipping.
// Both authenticate every client: a broker registers its service user (chipwatch's own credentials) by URL, and
// startTestChipwatch connects with it — and attaches its database to a test aedes, which reads trackers' and sites'
// credentials there — so a test passes only `MQTT_URL: broker.url`.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { ServiceCredentials } from '../../src/broker/service-credentials.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import {
  type BrokerLimits,
  dbCredentialSource,
  type EmbeddedBroker,
  startEmbeddedBroker,
} from '../../src/embedded/broker.ts';

export interface TestBroker {
  name: 'aedes' | 'mosquitto';
  /** Plain MQTT (loopback); with TLS on, chipwatch's parts connect here and trackers to `tlsUrl`. */
  url: string;
  tlsUrl?: string;
  /** chipwatch's own user on this broker (ingest, dispatcher, tests acting as chipwatch). */
  service?: ServiceCredentials;
  /** The embedded broker itself (aedes only): stats, sweep, access. */
  embedded?: EmbeddedBroker;
  /** Points the broker at chipwatch's database, where trackers' and sites' credentials are (aedes only). */
  attachDatabase?(databaseUrl: string): void;
  stop(): Promise<void>;
}

/** What startTestChipwatch needs to connect to a test broker and let it authenticate trackers. */
export type TestBrokerInfo = Pick<TestBroker, 'service' | 'attachDatabase'> & {
  /** Settings chipwatch needs for this broker (Mosquitto: the dynamic-security admin). */
  env?: Record<string, string>;
};

/** Brokers by URL. */
const registry = new Map<string, TestBrokerInfo>();

/** Registers a test broker's service user (and database hook) under its URL; a Mosquitto helper calls this too. */
export function registerTestBroker(url: string, info: TestBrokerInfo): void {
  registry.set(url, info);
}

/** What is registered for the broker at `url` (undefined: a broker no helper started). */
export function testBrokerInfo(url: string): TestBrokerInfo | undefined {
  return registry.get(url);
}

/** mqtt.js options to connect as chipwatch's service user of `broker` (a test acting as chipwatch or as a raw wire). */
export function serviceOptions(broker: Pick<TestBroker, 'service'>): { username: string; password: string } {
  if (!broker.service) throw new Error('this test broker has no service user registered');
  return { username: broker.service.username, password: broker.service.password };
}

/** The environment a chipwatch process needs to connect to `broker` as its service user. */
export function serviceEnv(broker: Pick<TestBroker, 'service'>): {
  MQTT_USERNAME: string;
  MQTT_PASSWORD: string;
} {
  const s = serviceOptions(broker);
  return { MQTT_USERNAME: s.username, MQTT_PASSWORD: s.password };
}

/**
 * The embedded aedes with chipwatch's rules. Its credentials come from `databaseUrl`, or from the database of the
 * chipwatch later started against it (startTestChipwatch attaches it).
 */
export async function startAedes(
  opts: {
    databaseUrl?: string;
    limits?: Partial<BrokerLimits>;
    tls?: { certFile: string; keyFile: string };
    topicPrefix?: string;
    sweepMs?: number;
  } = {},
): Promise<TestBroker> {
  let pool: Pool | undefined;
  const attachDatabase = (databaseUrl: string) => {
    if (!pool) pool = createPool(databaseUrl, 2);
  };
  if (opts.databaseUrl) attachDatabase(opts.databaseUrl);
  const b = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    credentials: dbCredentialSource(() => pool),
    ...(opts.topicPrefix ? { topicPrefix: opts.topicPrefix } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.tls ? { tls: { ...opts.tls, port: 0 } } : {}),
    sweepMs: opts.sweepMs ?? 500,
  });
  registerTestBroker(b.url, { service: b.service, attachDatabase });
  return {
    name: 'aedes',
    url: b.url,
    ...(b.tlsUrl ? { tlsUrl: b.tlsUrl } : {}),
    service: b.service,
    embedded: b,
    attachDatabase,
    stop: async () => {
      await b.stop();
      await pool?.end();
      registry.delete(b.url);
    },
  };
}

function mosquittoBinary(): string | undefined {
  for (const candidate of ['mosquitto', '/usr/sbin/mosquitto']) {
    const r = spawnSync(candidate, ['-h'], { stdio: 'ignore' });
    if (!r.error) return candidate;
  }
  return undefined;
}

/** True when Mosquitto can run here; under CI a missing Mosquitto is an error, not a skip. */
export function mosquittoAvailable(): boolean {
  const found = mosquittoBinary() !== undefined;
  if (!found && process.env.CI === 'true') {
    throw new Error('CI=true but mosquitto is not installed: .ci/run must `apt-get install -y mosquitto`');
  }
  return found;
}

/**
 * A bare aedes with no authentication, whose events and clients the test reads: which PUBACKs a client sent and when
 * ('ack'), and how many bytes wait unsent on the socket to a client that stopped reading (backpressure).
 */
export async function startOpenAedes(): Promise<{ url: string; aedes: Aedes; stop(): Promise<void> }> {
  // No drainTimeout: a client that stops reading stays connected (aedes's default drops it after 60 s), so a test of
  // chipwatch's backpressure sees chipwatch's behaviour, not aedes's slow-client policy.
  const aedes = await Aedes.createBroker({ drainTimeout: 0 });
  const server = net.createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    stop: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A test's MQTT client: MQTT 3.1.1, no reconnects, 5 s to connect; added to `clients`, which the suite ends in its
 * afterAll. Rejects when the broker refuses the connection.
 */
export async function connectClient(
  url: string,
  opts: IClientOptions,
  clients: MqttClient[],
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  clients.push(c);
  return c;
}
