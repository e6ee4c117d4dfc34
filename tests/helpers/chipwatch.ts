// chipwatch started in-process against real servers, plus a small API client with minted tokens, and registration
// helpers that hand back what a real tracker or site gets: its key, its MQTT password, the ack key to pin.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DeviceAlg, type DeviceKey, generateDeviceKey } from '../../device-sim/keys.ts';
import { mintToken, type Role } from '../../src/auth.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { type Running, startChipwatch } from '../../src/server.ts';
import { testBrokerInfo } from './broker.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

export interface TestChipwatch extends Running {
  httpUrl: string;
  /** The configuration it runs with (MQTT_CLIENT_ID, the service user, …). */
  config: Config;
  token(role: Role): Promise<string>;
  api(
    method: string,
    path: string,
    opts?: { role?: Role | null; token?: string; body?: unknown },
  ): Promise<{ status: number; body: any }>;
  sql<T = any>(text: string, values?: unknown[]): Promise<T[]>;
}

export function testConfig(env: Record<string, string>): Config {
  return loadConfig({
    HTTP_PORT: '0',
    BIND_HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MQTT_CLIENT_ID: `cw-test-${randomBytes(4).toString('hex')}`,
    INGEST_BATCH_MS: '10',
    ...env,
  });
}

export async function startTestChipwatch(
  env: { DATABASE_URL: string; MQTT_URL: string } & Record<string, string>,
): Promise<TestChipwatch> {
  // A test broker's service user is chipwatch's; a test aedes reads trackers' credentials from this database.
  const brokerInfo = testBrokerInfo(env.MQTT_URL);
  brokerInfo?.attachDatabase?.(env.DATABASE_URL);
  const config = testConfig({
    ...(brokerInfo?.service && !env.MQTT_PASSWORD
      ? { MQTT_USERNAME: brokerInfo.service.username, MQTT_PASSWORD: brokerInfo.service.password }
      : {}),
    ...(brokerInfo?.env ?? {}),
    ...env,
  });
  const running = await startChipwatch(config, createLogger(config.LOG_LEVEL));
  const sqlPool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
  // Tests stop the database (faults): an idle connection dying must not be an uncaught error.
  sqlPool.on('error', () => {});
  return {
    ...running,
    config,
    httpUrl: running.httpUrl!,
    ...apiAt(running.httpUrl!, config.AUTH_ISSUER),
    sql: async (text, values) => (await sqlPool.query(text, values)).rows,
    stop: async () => {
      await running.stop();
      await sqlPool.end();
    },
  };
}

/**
 * Polls `fn` until it returns a truthy value and returns it; throws naming `what` when the time is up. Use this
 * where a test relies on the condition (eventually() returns the last value quietly, for callers that assert it).
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const last = await eventually(fn, timeoutMs, everyMs);
  if (!last)
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`,
    );
  return last;
}

/** An API client for a chipwatch at `httpUrl` signing tokens with TEST_SECRET (in-process or a spawned process). */
export function apiAt(httpUrl: string, issuer = 'chipwatch'): Pick<TestChipwatch, 'api' | 'token'> {
  const secret = new TextEncoder().encode(TEST_SECRET);
  const token = (role: Role) => mintToken(secret, { sub: `test-${role}`, role, issuer, ttlS: 600 });
  return {
    token,
    api: async (method, path, opts = {}) => {
      const headers: Record<string, string> = {};
      const role = opts.role === undefined ? 'admin' : opts.role;
      const bearer = opts.token ?? (role ? await token(role) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${httpUrl}${path}`, {
        method,
        headers,
        // A string is sent as it is (malformed JSON, say); anything else as JSON.
        body:
          opts.body === undefined
            ? undefined
            : typeof opts.body === 'string'
              ? opts.body
              : JSON.stringify(opts.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body };
    },
  };
}

/** Polls `fn` until it returns a truthy value or the time is up (then returns the last value: assert it). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}

/** A registered tracker as the firmware holds it: id, signing key, MQTT password (user name = id), and the 201 body. */
export interface RegisteredSender {
  id: string;
  /** The same as `id`, under the name tests of devices read best. */
  deviceId: string;
  key: DeviceKey;
  mqttPassword: string;
  /** mqtt.js options a real tracker connects with: user name and client id = its id, its password. */
  mqtt: { username: string; password: string; clientId: string };
  body: any;
}

function sender(id: string, key: DeviceKey, body: any): RegisteredSender {
  const mqttPassword = body?.mqttPassword as string;
  return {
    id,
    deviceId: id,
    key,
    mqttPassword,
    mqtt: { username: id, password: mqttPassword, clientId: id },
    body,
  };
}

/** Registers a tracker through the API (POST /v1/devices, as admin); throws unless 201. */
export async function registerDevice(
  cw: Pick<TestChipwatch, 'api'>,
  id = `trk-${randomBytes(4).toString('hex')}`,
  alg: DeviceAlg = 'EdDSA',
): Promise<RegisteredSender> {
  const key = generateDeviceKey(alg);
  const res = await cw.api('POST', '/v1/devices', { body: { id, publicKeyJwk: key.publicJwk } });
  if (res.status !== 201) throw new Error(`registering ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return sender(id, key, res.body);
}

/** Registers a data center through the API (POST /v1/sites, as admin) near Amsterdam unless told; throws unless 201. */
export async function registerSite(
  cw: Pick<TestChipwatch, 'api'>,
  id = `dc-${randomBytes(4).toString('hex')}`,
  fields: Record<string, unknown> = {},
): Promise<RegisteredSender> {
  const key = generateDeviceKey('EdDSA');
  const res = await cw.api('POST', '/v1/sites', {
    body: { id, name: `DC ${id}`, lat: 52.3, lon: 4.94, radiusKm: 5, publicKeyJwk: key.publicJwk, ...fields },
  });
  if (res.status !== 201)
    throw new Error(`registering site ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return sender(id, key, res.body);
}

/** A short road leg for a shipment registration body: `{ id, deviceId, mode: 'road', ...EINDHOVEN_TO_AMSTERDAM }`. */
export const EINDHOVEN_TO_AMSTERDAM = {
  origin: { name: 'Eindhoven', lat: 51.44, lon: 5.47 },
  destination: { name: 'Amsterdam', lat: 52.37, lon: 4.9, radiusKm: 5 },
  route: {
    type: 'LineString',
    coordinates: [
      [5.47, 51.44],
      [4.9, 52.37],
    ],
  },
};
