// The MQTT edge as a trust boundary, on the embedded aedes over real sockets (wire protocol v1, "Connecting"): who
// may connect, publish and subscribe, and how rotation and revocation end access. chipwatch runs against the test
// broker as an external one, so revocation reaches the broker through its sweep of the database (across processes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectClient, serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  eventually,
  type RegisteredSender,
  registerDevice,
  registerSite,
  startTestChipwatch,
  type TestChipwatch,
} from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const P = 'chipwatch/v1';
let broker: TestBroker;
let cw: TestChipwatch;
let a: RegisteredSender;
let b: RegisteredSender;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  a = await registerDevice(cw, 'trk-auth-a');
  b = await registerDevice(cw, 'trk-auth-b');
});
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await cw?.stop();
  await broker?.stop();
});

const connect = (opts: IClientOptions, url = broker.url) => connectClient(url, opts, clients);

/** The CONNACK return code of a refused connect (mqtt.js puts it in `code`). */
async function refusal(opts: IClientOptions, url = broker.url): Promise<number | string | undefined> {
  try {
    const c = await connect(opts, url);
    await c.endAsync(true);
    return 0;
  } catch (err) {
    return (err as { code?: number | string }).code;
  }
}

/** A service-user subscriber that records what arrives on `filter`. */
async function listen(
  filter: string,
): Promise<{ got: { topic: string; payload: string; retain: boolean }[] }> {
  const c = await connect({ ...serviceOptions(broker), clientId: `listener-${Math.random()}` });
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  await c.subscribeAsync(filter, { qos: 1 });
  return { got };
}

/**
 * Publishes a marker on `topic` as the service user and waits for `l` to receive it: whatever a refused publish sent
 * before it has had every chance to arrive (one broker, one process, in order).
 */
async function settle(l: { got: { payload: string }[] }, topic: string): Promise<void> {
  const marker = `marker-${Math.random()}`;
  const svc = await connect({ ...serviceOptions(broker), clientId: `marker-${Math.random()}` });
  await svc.publishAsync(topic, marker, { qos: 1 });
  expect(await eventually(async () => l.got.some((m) => m.payload === marker))).toBe(true);
  await svc.endAsync();
}

/** The QoS the broker grants a subscription: 128 when refused (mqtt.js rejects with the SUBACK then). */
async function granted(c: MqttClient, filter: string): Promise<number | undefined> {
  try {
    const [g] = await c.subscribeAsync(filter, { qos: 1 });
    return g?.qos;
  } catch (err) {
    const packet = (err as { packet?: { granted?: (number | { qos: number })[] } }).packet;
    const g = packet?.granted?.[0];
    return typeof g === 'number' ? g : g?.qos;
  }
}

describe('connecting', () => {
  it('refuses an anonymous client (CONNACK 4)', async () => {
    expect(await refusal({ clientId: a.id })).toBe(4);
  });

  it('refuses a wrong password, and another sender’s password (CONNACK 4)', async () => {
    expect(await refusal({ ...a.mqtt, password: 'not-the-password' })).toBe(4);
    expect(await refusal({ ...a.mqtt, password: b.mqttPassword })).toBe(4);
  });

  it('admits a tracker with the credential from its registration answer, which also carries the ack key', async () => {
    expect(a.body.mqttUsername).toBe(a.id);
    expect(a.body.ackKey.publicJwk).toEqual(cw.ackKey);
    const c = await connect(a.mqtt);
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it("refuses a tracker taking the ingest's client id, or another tracker's (CONNACK 2); the ingest stays on", async () => {
    expect(await refusal({ ...a.mqtt, clientId: cw.config.MQTT_CLIENT_ID })).toBe(2);
    expect(await refusal({ ...a.mqtt, clientId: b.id })).toBe(2);
    expect((await cw.api('GET', '/readyz', { role: null })).status).toBe(200);
  });
});

describe('least privilege', () => {
  it('refuses a tracker subscribing to #, to another tracker’s ack, or to any telemetry (SUBACK 0x80)', async () => {
    const c = await connect(a.mqtt);
    for (const filter of [
      '#',
      `${P}/#`,
      `${P}/devices/${b.id}/ack`,
      `${P}/devices/+/ack`,
      `${P}/devices/${b.id}/telemetry`,
      `${P}/devices/${a.id}/telemetry`,
      `${P}/devices/+/telemetry`,
      `$share/g/${P}/devices/+/telemetry`,
      `${P}/sites/+/attestations`,
    ]) {
      expect(await granted(c, filter), filter).toBe(128);
    }
    expect(await granted(c, `${P}/devices/${a.id}/ack`)).toBe(1);
  });

  it("never delivers a tracker's publish to another tracker's telemetry (the publisher is disconnected)", async () => {
    const topic = `${P}/devices/${b.id}/telemetry`;
    const l = await listen(topic);
    const c = await connect(a.mqtt);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(topic, 'forged', { qos: 1 });
    await closed;
    await settle(l, topic);
    expect(l.got.map((m) => m.payload)).not.toContain('forged');
  });

  it('never delivers a tracker’s publish to an ack topic, its own or another’s', async () => {
    for (const topic of [`${P}/devices/${a.id}/ack`, `${P}/devices/${b.id}/ack`]) {
      const l = await listen(topic);
      const c = await connect(a.mqtt);
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      c.publish(topic, JSON.stringify({ seq: 9007199254740991 }), { qos: 1, retain: true });
      await closed;
      await settle(l, topic);
      expect(l.got.map((m) => m.payload).filter((p) => p.includes('9007199254740991'))).toEqual([]);
    }
  });

  it('keeps no retained message on a chipwatch topic', async () => {
    const topic = `${P}/devices/${a.id}/telemetry`;
    const c = await connect(a.mqtt);
    await c.publishAsync(topic, 'retained?', { qos: 1, retain: true });
    // A subscriber arriving later gets a retained message first, if one was kept; then the marker.
    const l = await listen(topic);
    await settle(l, topic);
    expect(l.got.map((m) => m.payload)).not.toContain('retained?');
    expect(l.got.filter((m) => m.retain)).toEqual([]);
  });
});

describe('rotation and revocation', () => {
  it('ends the old password on rotation: its connection is closed, it is refused, the new one works', async () => {
    const d = await registerDevice(cw, 'trk-auth-rotate');
    const old = await connect(d.mqtt);
    const closed = new Promise<void>((r) => old.once('close', () => r()));
    const res = await cw.api('POST', `/v1/devices/${d.id}/mqtt-credentials`);
    expect(res.status).toBe(201);
    expect(res.body.mqttPassword).not.toBe(d.mqttPassword);
    await closed;
    expect(await refusal(d.mqtt)).toBe(4);
    const fresh = await connect({ ...d.mqtt, password: res.body.mqttPassword });
    expect(fresh.connected).toBe(true);
  });

  it('only an admin rotates (403 FORBIDDEN), and a revoked tracker gets no new credential (409 CONFLICT)', async () => {
    const d = await registerDevice(cw, 'trk-auth-rot-roles');
    const asLogistics = await cw.api('POST', `/v1/devices/${d.id}/mqtt-credentials`, { role: 'logistics' });
    expect(asLogistics.body.error.code).toBe('FORBIDDEN');
    expect((await cw.api('POST', `/v1/devices/${d.id}/revoke`, { body: {} })).status).toBe(200);
    const again = await cw.api('POST', `/v1/devices/${d.id}/mqtt-credentials`);
    expect([again.status, again.body.error.code]).toEqual([409, 'CONFLICT']);
  });

  it('disconnects a revoked tracker within seconds, and refuses it from then on', async () => {
    const d = await registerDevice(cw, 'trk-auth-revoke');
    const c = await connect(d.mqtt);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await cw.api('POST', `/v1/devices/${d.id}/revoke`, { body: { reason: 'stolen' } })).status).toBe(
      200,
    );
    await closed;
    expect(await refusal(d.mqtt)).toBe(4);
  });

  it('gives a site its credential at registration, and revoking the site ends its keys and MQTT access', async () => {
    const s = await registerSite(cw, 'dc-auth-1');
    expect(s.mqttPassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const c = await connect(s.mqtt);
    expect(await granted(c, `${P}/sites/${s.id}/ack`)).toBe(1);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const res = await cw.api('POST', `/v1/sites/${s.id}/revoke`, { body: {} });
    expect([res.status, res.body.status]).toEqual([200, 'revoked']);
    await closed;
    expect(await refusal(s.mqtt)).toBe(4);
    const keys = await cw.sql('SELECT revoked_at FROM site_keys WHERE site_id = $1', [s.id]);
    expect(keys.every((k) => k.revoked_at !== null)).toBe(true);
    expect((await cw.api('POST', '/v1/sites/dc-nowhere/revoke', { body: {} })).body.error.code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('TLS', () => {
  it('serves mqtts:// with a certificate and key; the plain port then listens on loopback only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    const tlsBroker = await startAedes({
      databaseUrl: cw.databaseUrl,
      tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
    });
    try {
      expect(tlsBroker.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(join(dir, 'cert.pem'));
      const c = await connect({ ...a.mqtt, ca, servername: 'localhost' }, tlsBroker.tlsUrl);
      expect(c.connected).toBe(true);
      await c.endAsync();
      expect(await refusal({ ...a.mqtt, password: 'wrong', ca }, tlsBroker.tlsUrl)).toBe(4);
    } finally {
      await tlsBroker.stop();
    }
  });
});
