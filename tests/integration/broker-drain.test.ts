// A client that stops reading, on the embedded aedes over real sockets (src/embedded/broker.ts): a tracker is
// dropped after the drain timeout, so it cannot hold the broker's delivery slots or memory for long; chipwatch's own
// service connection, which ingest pauses on purpose for backpressure, is never dropped for it and gets every
// message once it reads again. Both sides are chipwatch's own MQTT client (src/ingest/mqtt-session.ts).
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withCredentials } from '../../src/broker/service-credentials.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { dbCredentialSource, type EmbeddedBroker, startEmbeddedBroker } from '../../src/embedded/broker.ts';
import { MqttSession } from '../../src/ingest/mqtt-session.ts';
import { createLogger } from '../../src/log.ts';
import { registerTestBroker } from '../helpers/broker.ts';
import {
  type RegisteredSender,
  registerDevice,
  startTestChipwatch,
  type TestChipwatch,
  until,
} from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const P = 'chipwatch/v1';
const DRAIN_TIMEOUT_MS = 400;
const log = createLogger('silent');
let pool: Pool | undefined;
let broker: EmbeddedBroker;
let cw: TestChipwatch;
let tracker: RegisteredSender;
const sessions: MqttSession[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    credentials: dbCredentialSource(() => pool),
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
  });
  registerTestBroker(broker.url, {
    service: broker.service,
    attachDatabase: (url) => {
      pool ??= createPool(url, 2);
    },
  });
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  tracker = await registerDevice(cw, 'trk-drain');
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await cw?.stop();
  await broker?.stop();
  await pool?.end();
});

/** A subscriber on `topic` counting what it reads and how often the broker dropped it. */
async function subscriber(url: string, clientId: string, topic: string) {
  const got: number[] = [];
  let dropped = 0;
  const s = new MqttSession({
    url,
    clientId,
    subscriptions: [topic],
    log,
    onPublish: (m) => {
      got.push(m.payload.length);
      m.ack();
    },
  });
  s.on('disconnected', () => dropped++);
  sessions.push(s);
  await s.start();
  return { session: s, got, dropped: () => dropped };
}

/** Floods `topic` with `count` × 60 KiB at QoS 0 as chipwatch's service user: more than a socket's kernel buffers take. */
async function flood(topic: string, count: number): Promise<{ bytes: number; end(): Promise<void> }> {
  const publisher = await mqtt.connectAsync(broker.url, {
    ...broker.service,
    clientId: `flooder-${Math.random()}`,
    reconnectPeriod: 0,
  });
  const chunk = Buffer.alloc(60 * 1024, 7);
  for (let i = 0; i < count; i++) publisher.publish(topic, chunk, { qos: 0 });
  return { bytes: chunk.length, end: () => publisher.endAsync(true).then(() => {}) };
}

/** Waits until `s` has read a marker published on `topic`: its subscription is in place. */
async function subscribed(s: { got: number[] }, topic: string): Promise<void> {
  const publisher = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  await publisher.publishAsync(topic, 'marker', { qos: 1 });
  await until('the marker', async () => s.got.length > 0);
  await publisher.endAsync(true);
}

describe('a client that stops reading', () => {
  it('drops a tracker whose socket stays full longer than the drain timeout', async () => {
    const topic = `${P}/devices/${tracker.id}/ack`;
    const url = broker.url.replace(
      'mqtt://',
      `mqtt://${tracker.id}:${encodeURIComponent(tracker.mqttPassword)}@`,
    );
    const trk = await subscriber(url, tracker.id, topic);
    await subscribed(trk, topic);
    trk.session.pause();
    const count = 400;
    const f = await flood(topic, count);
    try {
      await new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS * 10));
      // A paused socket learns of its end only when it reads again.
      trk.session.resume();
      await until('the tracker learns it was dropped', async () => trk.dropped() > 0);
      expect(trk.got.length).toBeLessThan(count + 1);
    } finally {
      await f.end();
      await trk.session.close();
    }
  });

  it('never drops chipwatch’s paused service connection, which then gets every message', async () => {
    const topic = `${P}/devices/trk-drain-service/ack`;
    const svc = await subscriber(withCredentials(broker.url, broker.service), 'paused-ingest', topic);
    await subscribed(svc, topic);
    svc.session.pause();
    const count = 400;
    const f = await flood(topic, count);
    try {
      // Many drain timeouts later the paused service connection is still there.
      await new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS * 10));
      expect(svc.dropped()).toBe(0);
      expect(svc.session.connected).toBe(true);
      svc.session.resume();
      await until('every message at the service connection', async () => svc.got.length === count + 1);
      expect(svc.got.slice(1).every((n) => n === f.bytes)).toBe(true);
      expect(svc.dropped()).toBe(0);
    } finally {
      await f.end();
    }
  });
});
