// Mosquitto with the dynamic-security plugin, driven by chipwatch's DynsecAccess, against real MQTT clients: who may
// connect, publish and subscribe, and what revocation does. The broker runs deploy/mosquitto.conf (tests/helpers/
// mosquitto.ts). Ordering, not sleeping, proves that a refused message reached nobody: a marker sent after it on the
// same connection arrives first.
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynsecAccess, DynsecError, provisionServiceUser } from '../../src/broker/dynsec.ts';
import {
  findMosquittoDynsec,
  skipWithoutMosquitto,
  startMosquittoDynsec,
  type TestMosquitto,
} from '../helpers/mosquitto.ts';

const P = 'chipwatch/v1';
const INGEST_ID = 'chipwatch-ingest';
const found = findMosquittoDynsec();
const pw = () => randomBytes(32).toString('base64url');

interface Conn {
  client: MqttClient;
  /** Messages received so far, in order. */
  got: { topic: string; payload: string }[];
  closed: Promise<void>;
  /** The CONNACK's MQTT 5 properties (what the broker announces: retain available, keepalive, packet size). */
  connack?: { retainAvailable?: boolean; serverKeepAlive?: number; maximumPacketSize?: number };
}

let broker: TestMosquitto;
const opened: MqttClient[] = [];

/** Connects and resolves once CONNACK says yes; rejects with mqtt.js's error (its `code` is the CONNACK code). */
async function connect(opts: IClientOptions): Promise<Conn> {
  const client = mqtt.connect(broker.url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  opened.push(client);
  const got: Conn['got'] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  let connack: Conn['connack'];
  await new Promise<void>((resolve, reject) => {
    client.once('connect', (packet) => {
      connack = packet.properties;
      resolve();
    });
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
  client.on('error', () => {});
  return { client, got, closed, connack };
}

/** The code of a refused CONNECT (5 = not authorised in MQTT 3.1.1, 135 in MQTT 5). */
async function refusal(opts: IClientOptions): Promise<number | undefined> {
  try {
    await connect(opts);
  } catch (e) {
    return (e as { code?: number }).code;
  }
  throw new Error(`connect as ${opts.username} / ${opts.clientId} was accepted`);
}

/** The SUBACK code of one filter (0x80 = refused). */
async function suback(c: Conn, filter: string): Promise<number> {
  try {
    const [g] = await c.client.subscribeAsync(filter, { qos: 1 });
    return g?.qos ?? -1;
  } catch (e) {
    // mqtt.js rejects a refused filter with the SUBACK packet attached.
    const code = (e as { packet?: { granted?: number[] } }).packet?.granted?.[0];
    if (code === undefined) throw e;
    return code;
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const tracker = (id: string, password: string, extra: IClientOptions = {}) =>
  connect({ username: id, password, clientId: id, ...extra });

describe.skipIf(skipWithoutMosquitto(found))(
  `Mosquitto with dynamic security, driven by chipwatch${found.ok ? '' : ` (skipped: ${found.reason})`}`,
  () => {
    let access: DynsecAccess;
    const svcPassword = pw();
    const creds = { 'trk-1': pw(), 'trk-2': pw(), 'dc-1': pw() };
    let ingest: Conn;
    const admin = () => ({
      url: broker.url,
      username: broker.admin.username,
      password: broker.admin.password,
      topicPrefix: P,
      reservedIds: [INGEST_ID, 'chipwatch-service'],
    });

    beforeAll(async () => {
      if (!found.ok) throw new Error(`CI=true and ${found.reason}`);
      broker = await startMosquittoDynsec();
      access = await DynsecAccess.connect(admin());
      await provisionServiceUser(admin(), { username: 'chipwatch-service', password: svcPassword });
      await access.grant('device', 'trk-1', creds['trk-1']);
      await access.grant('device', 'trk-2', creds['trk-2']);
      await access.grant('site', 'dc-1', creds['dc-1']);
      ingest = await connect({
        username: 'chipwatch-service',
        password: svcPassword,
        clientId: INGEST_ID,
        clean: false,
      });
      expect(await suback(ingest, `${P}/devices/+/telemetry`)).toBe(1);
      expect(await suback(ingest, `${P}/sites/+/attestations`)).toBe(1);
    });

    afterAll(async () => {
      for (const c of opened) c.end(true);
      await access?.close();
      await broker?.stop();
    });

    it('refuses anonymous, unknown-user and wrong-password connects with CONNACK 5 (not authorised)', async () => {
      expect(await refusal({ clientId: 'anon' })).toBe(5);
      expect(await refusal({ username: 'nobody', password: 'x', clientId: 'nobody' })).toBe(5);
      expect(await refusal({ username: 'trk-1', password: 'wrong', clientId: 'trk-1' })).toBe(5);
      expect(
        await refusal({ username: 'trk-1', password: 'wrong', clientId: 'trk-1', protocolVersion: 5 }),
      ).toBe(135);
    });

    it('lets a tracker publish its own telemetry to the ingest and read its own acks; a site likewise', async () => {
      const t1 = await tracker('trk-1', creds['trk-1']);
      expect(await suback(t1, `${P}/devices/trk-1/ack`)).toBe(1);
      await t1.client.publishAsync(`${P}/devices/trk-1/telemetry`, 'jws-1', { qos: 1 });
      await until('telemetry at the ingest', () => ingest.got.some((m) => m.payload === 'jws-1'));
      await ingest.client.publishAsync(`${P}/devices/trk-1/ack`, 'ack-1', { qos: 1 });
      await until('the ack at the tracker', () => t1.got.some((m) => m.payload === 'ack-1'));
      const site = await tracker('dc-1', creds['dc-1']);
      expect(await suback(site, `${P}/sites/dc-1/ack`)).toBe(1);
      await site.client.publishAsync(`${P}/sites/dc-1/attestations`, 'att-1', { qos: 1 });
      await until('the attestation at the ingest', () => ingest.got.some((m) => m.payload === 'att-1'));
    });

    it('refuses a tracker subscribing to #, another tracker’s ack, a wildcard ack, telemetry or $SYS (SUBACK 0x80)', async () => {
      const t1 = await tracker('trk-1', creds['trk-1']);
      for (const filter of [
        '#',
        `${P}/#`,
        `${P}/devices/trk-2/ack`,
        `${P}/devices/+/ack`,
        `${P}/devices/trk-1/telemetry`,
        `${P}/devices/+/telemetry`,
        `$share/g/${P}/devices/+/telemetry`,
        `${P}/sites/dc-1/ack`,
        '$SYS/#',
        '$CONTROL/dynamic-security/#',
      ]) {
        expect({ filter, code: await suback(t1, filter) }).toEqual({ filter, code: 0x80 });
      }
    });

    it('drops what a tracker publishes to another tracker’s telemetry or to any ack topic: nothing reaches a subscriber', async () => {
      const t1 = await tracker('trk-1', creds['trk-1']);
      const t2 = await tracker('trk-2', creds['trk-2']);
      expect(await suback(t1, `${P}/devices/trk-1/ack`)).toBe(1);
      expect(await suback(t2, `${P}/devices/trk-2/ack`)).toBe(1);
      const before = ingest.got.length;
      const forged = `{"seq":9007199254740991,"n":"${randomBytes(4).toString('hex')}"}`;
      // MQTT 3.1.1 has no refusal in PUBACK: Mosquitto acks and drops.
      await t1.client.publishAsync(`${P}/devices/trk-2/telemetry`, forged, { qos: 1 });
      await t1.client.publishAsync(`${P}/devices/trk-2/ack`, forged, { qos: 1 });
      await t1.client.publishAsync(`${P}/devices/trk-1/ack`, forged, { qos: 1 });
      await t1.client.publishAsync(`${P}/sites/dc-1/attestations`, forged, { qos: 1 });
      // Markers after the forgeries, on the same connections: once they arrive, anything earlier would have too.
      await t1.client.publishAsync(`${P}/devices/trk-1/telemetry`, 'marker-1', { qos: 1 });
      await until('the marker at the ingest', () => ingest.got.some((m) => m.payload === 'marker-1'));
      await ingest.client.publishAsync(`${P}/devices/trk-2/ack`, 'marker-2', { qos: 1 });
      await ingest.client.publishAsync(`${P}/devices/trk-1/ack`, 'marker-3', { qos: 1 });
      await until('the ack markers', () => t2.got.length > 0 && t1.got.length > 0);
      expect(ingest.got.slice(before).map((m) => m.payload)).toEqual(['marker-1']);
      expect(t2.got.map((m) => m.payload)).toEqual(['marker-2']);
      expect(t1.got.map((m) => m.payload)).toEqual(['marker-3']);
      // An MQTT 5 client is told: PUBACK 135 (not authorised).
      const v5 = await tracker('trk-1', creds['trk-1'], { protocolVersion: 5 });
      const err = await v5.client.publishAsync(`${P}/devices/trk-2/ack`, forged, { qos: 1 }).then(
        () => undefined,
        (e: { code?: number }) => e,
      );
      expect(err?.code).toBe(135);
    });

    it('refuses a tracker connecting under the ingest’s client id (or another tracker’s), and the ingest stays on', async () => {
      expect(await refusal({ username: 'trk-1', password: creds['trk-1'], clientId: INGEST_ID })).toBe(5);
      expect(await refusal({ username: 'trk-1', password: creds['trk-1'], clientId: 'trk-2' })).toBe(5);
      expect(await refusal({ username: 'trk-1', password: creds['trk-1'], clientId: 'sim-trk-1' })).toBe(5);
      expect(ingest.client.connected).toBe(true);
      const t1 = await tracker('trk-1', creds['trk-1']);
      await t1.client.publishAsync(`${P}/devices/trk-1/telemetry`, 'still-ingesting', { qos: 1 });
      await until('telemetry at the ingest', () => ingest.got.some((m) => m.payload === 'still-ingesting'));
    });

    it('keeps no retained message: a retained publish disconnects its sender and a later subscriber gets nothing', async () => {
      const t1 = await tracker('trk-1', creds['trk-1']);
      const v5 = await tracker('trk-2', creds['trk-2'], { protocolVersion: 5 });
      expect(v5.connack?.retainAvailable).toBe(false);
      v5.client.end(true);
      t1.client.publish(`${P}/devices/trk-1/telemetry`, 'retained-jws', { qos: 1, retain: true });
      await t1.closed;
      ingest.client.publish(`${P}/devices/trk-2/ack`, 'retained-ack', { qos: 1, retain: true });
      await ingest.closed;
      // A fresh subscriber: a retained message would arrive right after SUBACK, before the marker.
      ingest = await connect({
        username: 'chipwatch-service',
        password: svcPassword,
        clientId: INGEST_ID,
        clean: false,
      });
      const fresh = await connect({
        username: 'chipwatch-service',
        password: svcPassword,
        clientId: 'fresh-reader',
      });
      expect(await suback(fresh, `${P}/devices/+/telemetry`)).toBe(1);
      const t2 = await tracker('trk-2', creds['trk-2']);
      expect(await suback(t2, `${P}/devices/trk-2/ack`)).toBe(1);
      await t2.client.publishAsync(`${P}/devices/trk-2/telemetry`, 'marker', { qos: 1 });
      await ingest.client.publishAsync(`${P}/devices/trk-2/ack`, 'ack-marker', { qos: 1 });
      await until('the markers', () => fresh.got.length > 0 && t2.got.length > 0);
      expect(fresh.got[0]?.payload).toBe('marker');
      expect(t2.got[0]?.payload).toBe('ack-marker');
    });

    it('disconnects a client whose packet exceeds 80 KiB, and tells MQTT 5 clients the bounds', async () => {
      const t1 = await tracker('trk-1', creds['trk-1']);
      t1.client.publish(`${P}/devices/trk-1/telemetry`, Buffer.alloc(90 * 1024, 0x41), { qos: 1 });
      await t1.closed;
      expect(ingest.got.some((m) => m.payload.length > 64 * 1024)).toBe(false);
      // MQTT 5 clients are told the bounds; one asking for no keepalive is given 300 s.
      const v5 = await tracker('trk-1', creds['trk-1'], { protocolVersion: 5, keepalive: 0 });
      expect(v5.connack).toMatchObject({
        serverKeepAlive: 300,
        maximumPacketSize: 81920,
        retainAvailable: false,
      });
    });

    it('gives chipwatch’s service user no power over the broker: its $CONTROL commands are dropped', async () => {
      const svc = await connect({
        username: 'chipwatch-service',
        password: svcPassword,
        clientId: 'svc-admin-try',
      });
      expect(await suback(svc, '$CONTROL/dynamic-security/#')).toBe(0x80);
      const cmd = { commands: [{ command: 'createClient', username: 'intruder', password: 'x', roles: [] }] };
      await svc.client.publishAsync('$CONTROL/dynamic-security/v1', JSON.stringify(cmd), { qos: 1 });
      const [answer] = await access.run([{ command: 'getClient', username: 'intruder' }], {
        getClient: ['Client not found'],
      });
      expect(answer?.error).toBe('Client not found');
    });

    it('revoking a tracker disconnects it at once and refuses it on reconnect', async () => {
      const id = 'trk-revoked';
      const password = pw();
      await access.grant('device', id, password);
      const t = await tracker(id, password);
      await access.revoke('device', id);
      await t.closed;
      expect(await refusal({ username: id, password, clientId: id })).toBe(5);
      const [role] = await access.run([{ command: 'getRole', rolename: `chipwatch-device-${id}` }], {
        getRole: ['Role not found'],
      });
      expect(role?.error).toBe('Role not found');
      await access.revoke('device', id); // twice: nothing left to delete, no error
    });

    it('a new password (rotation) ends sessions opened with the old one, which is then refused', async () => {
      const id = 'trk-rotated';
      const old = pw();
      await access.grant('device', id, old);
      const t = await tracker(id, old);
      const next = pw();
      await access.grant('device', id, next);
      await t.closed;
      expect(await refusal({ username: id, password: old, clientId: id })).toBe(5);
      await tracker(id, next);
    });

    it('refuses to grant chipwatch’s own usernames or client ids, or a site the id a tracker already holds', async () => {
      await expect(access.grant('device', INGEST_ID, pw())).rejects.toThrow(DynsecError);
      await expect(access.grant('device', broker.admin.username, pw())).rejects.toThrow(DynsecError);
      await expect(access.grant('device', 'a/b', pw())).rejects.toThrow(/not a sender id/);
      await expect(access.grant('site', 'trk-1', pw())).rejects.toThrow(/already taken/);
      await tracker('trk-1', creds['trk-1']); // the tracker kept its access
    });

    it('a second chipwatch starting (same service password) leaves the running ingest connected', async () => {
      const second = await DynsecAccess.connect(admin());
      await second.provisionService('chipwatch-service', svcPassword);
      await second.close();
      const t1 = await tracker('trk-1', creds['trk-1']);
      await t1.client.publishAsync(`${P}/devices/trk-1/telemetry`, 'after-restart', { qos: 1 });
      await until('telemetry at the ingest', () => ingest.got.some((m) => m.payload === 'after-restart'));
      expect(ingest.client.connected).toBe(true);
    });

    it('lets the ingest read through a shared subscription ($share/<group>/…)', async () => {
      const worker = await connect({
        username: 'chipwatch-service',
        password: svcPassword,
        clientId: 'ingest-2',
      });
      expect(await suback(worker, `$share/workers/${P}/devices/+/telemetry`)).toBe(1);
      const t2 = await tracker('trk-2', creds['trk-2']);
      await t2.client.publishAsync(`${P}/devices/trk-2/telemetry`, 'shared', { qos: 1 });
      await until('the shared worker', () => worker.got.some((m) => m.payload === 'shared'));
    });
  },
);
