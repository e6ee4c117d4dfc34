// What one client can cost the embedded broker (aedes, real sockets): an oversized packet, a connection flood and
// an abandoned persistent session each stay within a stated memory bound, and chipwatch keeps answering /readyz.
// Bounds are on memory (process RSS and heap, measured before and after, with generous margins), never on time.
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  eventually,
  type RegisteredSender,
  registerDevice,
  startTestChipwatch,
  type TestChipwatch,
} from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const MiB = 1024 * 1024;
const LIMITS = {
  maxPacketBytes: 80 * 1024,
  maxConnections: 400,
  maxConnectionsPerAddress: 100,
  connectTimeoutS: 2,
  sessionQueueMax: 200,
  sessionQueueMaxBytes: 4 * MiB,
};

let broker: TestBroker;
let cw: TestChipwatch;
let trk: RegisteredSender;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startAedes({ limits: LIMITS });
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  trk = await registerDevice(cw, 'trk-limits');
});
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await cw?.stop();
  await broker?.stop();
});

const port = () => Number(new URL(broker.url).port);
const memory = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
};
const ready = async () => (await cw.api('GET', '/readyz', { role: null })).status;

function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port(), '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const closed = (s: net.Socket) =>
  new Promise<void>((r) => {
    if (s.destroyed) r();
    s.once('close', () => r());
    s.on('error', () => {});
  });

describe('oversized packets', () => {
  it('closes a connection at the header of a 200 MiB packet, before or after CONNECT, holding none of it', async () => {
    // One 1 MiB chunk written again and again: the test itself allocates nothing per write.
    const chunk = Buffer.alloc(MiB, 1);
    const before = memory();
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await rawSocket();
      sockets.push(s);
      s.on('error', () => {});
      if (i > 0) {
        s.write(
          mqttPacket.generate({
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 4,
            clean: true,
            keepalive: 60,
            clientId: trk.id,
            username: trk.id,
            password: Buffer.from(trk.mqttPassword),
          }),
        );
      }
      // A PUBLISH announcing 200 MiB, then 8 MiB of it: without the guard the broker buffers every byte sent.
      const len = 200 * MiB;
      const lengthField = Buffer.from([
        (len & 0x7f) | 0x80,
        ((len >> 7) & 0x7f) | 0x80,
        ((len >> 14) & 0x7f) | 0x80,
        (len >> 21) & 0x7f,
      ]);
      s.write(Buffer.concat([Buffer.from([0x30]), lengthField]));
      for (let j = 0; j < 8 && !s.destroyed; j++) s.write(chunk);
    }
    await Promise.all(sockets.map(closed));
    const after = memory();
    // 3 × 8 MiB were sent; the guard kept none: the growth stays well under one of them.
    expect((after.heap - before.heap) / MiB).toBeLessThan(16);
    expect(await ready()).toBe(200);
  });

  it('still carries a packet of the limit’s size (a 64 KiB JWS and its topic)', async () => {
    const l = await mqtt.connectAsync(broker.url, {
      ...serviceOptions(broker),
      clientId: 'limits-listener',
      reconnectPeriod: 0,
    });
    clients.push(l);
    const got: number[] = [];
    l.on('message', (_t, p) => got.push(p.length));
    await l.subscribeAsync(`chipwatch/v1/devices/${trk.id}/telemetry`, { qos: 1 });
    const c = await mqtt.connectAsync(broker.url, { ...trk.mqtt, reconnectPeriod: 0 });
    clients.push(c);
    await c.publishAsync(`chipwatch/v1/devices/${trk.id}/telemetry`, Buffer.alloc(64 * 1024, 0x61), {
      qos: 1,
    });
    expect(await eventually(async () => got.includes(64 * 1024))).toBe(true);
    await c.endAsync();
    await l.endAsync();
  });
});

describe('connection floods', () => {
  it('holds at most MQTT_MAX_CONNECTIONS_PER_ADDRESS sockets from one address, and drops those that never CONNECT', async () => {
    const before = memory();
    const connectionsBefore = broker.embedded!.stats().connections;
    const attempts = 1000;
    const sockets = await Promise.all(
      Array.from({ length: attempts }, () =>
        rawSocket().then(
          (s) => {
            s.on('error', () => {});
            return s;
          },
          () => undefined,
        ),
      ),
    );
    // Refused sockets are closed by the broker right after accept.
    const open = await eventually(async () => {
      const n = sockets.filter((s) => s && !s.destroyed && !s.readableEnded).length;
      return n <= LIMITS.maxConnectionsPerAddress ? n : 0;
    }, 10_000);
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThanOrEqual(LIMITS.maxConnectionsPerAddress);
    const during = memory();
    expect(await ready()).toBe(200);
    // None of them sent CONNECT: the broker closes them after MQTT_CONNECT_TIMEOUT_S.
    await Promise.all(sockets.map((s) => (s ? closed(s) : undefined)));
    expect(
      await eventually(async () => broker.embedded!.stats().connections <= connectionsBefore, 10_000),
    ).toBe(true);
    // 1,000 attempts, at most 100 held: a few MiB (about 10 KiB per held socket, with a wide margin).
    expect((during.rss - before.rss) / MiB).toBeLessThan(64);
  });
});

describe('abandoned persistent sessions', () => {
  it('keeps at most MQTT_SESSION_QUEUE_MAX_BYTES for a session whose client went away, dropping the oldest', async () => {
    const topic = `chipwatch/v1/devices/${trk.id}/telemetry`;
    const gone = await mqtt.connectAsync(broker.url, {
      ...serviceOptions(broker),
      clientId: 'abandoned-session',
      clean: false,
      reconnectPeriod: 0,
    });
    await gone.subscribeAsync(topic, { qos: 1 });
    await gone.endAsync();
    const before = memory();
    const c = await mqtt.connectAsync(broker.url, { ...trk.mqtt, reconnectPeriod: 0 });
    clients.push(c);
    // 400 × 60 KiB = 23 MiB published while the session's client is away.
    // One payload buffer, its first byte numbering the message: the test itself allocates nothing per message.
    const payload = Buffer.alloc(60 * 1024, 0x61);
    for (let i = 0; i < 400; i++) {
      payload[0] = i % 256;
      await c.publishAsync(topic, payload, { qos: 1 });
    }
    const q = broker.embedded!.stats().queued;
    // The abandoned session is the fullest (chipwatch's ingest acks as it goes), and it is held to its quota.
    expect(q.largestBytes).toBeGreaterThan(LIMITS.sessionQueueMaxBytes / 2);
    expect(q.largestBytes).toBeLessThanOrEqual(LIMITS.sessionQueueMaxBytes);
    expect(q.largestMessages).toBeLessThanOrEqual(LIMITS.sessionQueueMax);
    const after = memory();
    // Unbounded, the session alone would hold 23 MiB; bounded, 4 MiB plus what chipwatch's ingest has in flight.
    expect((after.heap - before.heap) / MiB).toBeLessThan(16);
    expect(await ready()).toBe(200);
    // The session still gets the newest messages when its client returns.
    const back = await mqtt.connectAsync(broker.url, {
      ...serviceOptions(broker),
      clientId: 'abandoned-session',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(back);
    const got: number[] = [];
    back.on('message', (_t, p) => got.push(p[0]!));
    expect(await eventually(async () => got.includes(399 % 256))).toBe(true);
    expect(got.length).toBeLessThanOrEqual(LIMITS.sessionQueueMax);
  });
});
