// Two ingest workers with INGEST_ROUTING=by-sender on one broker and one database, on the embedded aedes and on
// Mosquitto with dynamic security: every tracker's messages are handled by exactly one worker, so they are stored
// once and in the order the tracker sent them even with many in flight; when a worker stops, the other takes its
// trackers over. Order is read back from the database: per tracker, by seq, no later message may have been received
// earlier (received_at) or committed by an older transaction (xmin).
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { ownerOf } from '../../src/ingest/owners.ts';
import { serviceEnv, startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  type RegisteredSender,
  registerDevice,
  startTestChipwatch,
  TEST_SECRET,
  type TestChipwatch,
  until,
} from '../helpers/chipwatch.ts';
import {
  findMosquittoDynsec,
  skipWithoutMosquitto,
  startMosquittoForChipwatch,
} from '../helpers/mosquitto.ts';
import { createTestDatabase, freePort } from '../helpers/postgres.ts';
import { spawnChipwatch } from '../helpers/process.ts';

const TRACKERS = 8;
const IN_FLIGHT = 30;
const mosquitto = findMosquittoDynsec();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const gauge = async (cw: TestChipwatch) => (await cw.metrics.ingestWorkers.get()).values[0]?.value ?? 0;
const counter = async (cw: TestChipwatch, name: 'otherWorker' | 'messages') =>
  (await cw.metrics[name].get()).values
    .filter((v) => name === 'otherWorker' || v.labels.outcome === 'accepted')
    .reduce((a, v) => a + v.value, 0);

async function connect(url: string, t: RegisteredSender): Promise<MqttClient> {
  const c = mqtt.connect(url, { ...t.mqtt, reconnectPeriod: 500 });
  c.on('error', () => {});
  cleanups.push(() => c.endAsync());
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  return c;
}

/** Publishes seqs lo..hi of every tracker at once, without waiting for any PUBACK: all in flight together. */
async function burst(clients: MqttClient[], trackers: RegisteredSender[], lo: number, hi: number) {
  const t0 = Date.now() - 120_000;
  const sends: Promise<unknown>[] = [];
  for (let seq = lo; seq <= hi; seq++)
    for (const [i, t] of trackers.entries()) {
      const fix = { ts: t0 + seq * 1000, lat: 51 + seq * 0.001, lon: 3 + i * 0.01 };
      const jws = signCompactJws(buildTelemetry(t.id, seq, [fix]), t.key);
      sends.push(clients[i]!.publishAsync(`chipwatch/v1/devices/${t.id}/telemetry`, jws, { qos: 1 }));
    }
  await Promise.all(sends);
}

async function stored(cw: TestChipwatch, ids: string[]) {
  const [row] = await cw.sql<{ n: number; distinct: number; late_received: number; late_committed: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS distinct,
            count(*) FILTER (WHERE received_at < prev_received)::int AS late_received,
            count(*) FILTER (WHERE xid < prev_xid)::int AS late_committed
       FROM (SELECT device_id, seq, received_at, xmin::text::bigint AS xid,
                    lag(received_at) OVER w AS prev_received, lag(xmin::text::bigint) OVER w AS prev_xid
               FROM messages WHERE device_id = ANY($1)
             WINDOW w AS (PARTITION BY device_id ORDER BY seq)) x`,
    [ids],
  );
  return row!;
}

describe.each([
  { name: 'aedes', skip: false },
  { name: 'mosquitto', skip: skipWithoutMosquitto(mosquitto) },
])('two ingest workers routing by sender on $name', ({ name, skip }) => {
  it.skipIf(skip)(
    'each tracker is handled by one worker, in order; a stopping worker hands its trackers over',
    async () => {
      const databaseUrl = await createTestDatabase(inject('pgAdminUrl'));
      const broker: TestBroker = name === 'aedes' ? await startAedes() : await startMosquittoForChipwatch();
      cleanups.push(() => broker.stop());
      const env = {
        DATABASE_URL: databaseUrl,
        MQTT_URL: broker.url,
        INGEST_ROUTING: 'by-sender',
        INGEST_WORKER_LEASE_S: '3',
      };
      const w1 = await startTestChipwatch(env);
      cleanups.push(() => w1.stop());
      const w2 = await startTestChipwatch({ ...env, CHIPWATCH_PARTS: 'ingest', DISPATCHER: 'off' });
      let w2Running = true;
      cleanups.push(() => (w2Running ? w2.stop() : Promise.resolve()));
      await until(
        'both workers see each other',
        async () => (await gauge(w1)) === 2 && (await gauge(w2)) === 2,
      );

      const trackers: RegisteredSender[] = [];
      for (let i = 0; i < TRACKERS; i++) trackers.push(await registerDevice(w1, `trk-route-${name}-${i}`));
      const ids = trackers.map((t) => t.id);
      const workerIds = [w1.config.MQTT_CLIENT_ID, w2.config.MQTT_CLIENT_ID].sort();
      const owners = new Set(ids.map((id) => ownerOf(`chipwatch/v1/devices/${id}/telemetry`, workerIds)));
      expect(owners.size).toBe(2); // with these ids both workers own some trackers: the split is exercised
      const clients = await Promise.all(trackers.map((t) => connect(broker.url, t)));

      await burst(clients, trackers, 1, IN_FLIGHT);
      const sent = TRACKERS * IN_FLIGHT;
      await until('every message stored', async () => (await stored(w1, ids)).distinct === sent);
      expect(await stored(w1, ids)).toEqual({ n: sent, distinct: sent, late_received: 0, late_committed: 0 });
      // Each message was handled by exactly one worker and left to it by the other.
      const accepted = [await counter(w1, 'messages'), await counter(w2, 'messages')];
      expect(accepted[0]! + accepted[1]!).toBe(sent);
      expect(accepted.every((n) => n > 0)).toBe(true);
      expect((await counter(w1, 'otherWorker')) + (await counter(w2, 'otherWorker'))).toBe(sent);
      expect(await counter(w1, 'otherWorker')).toBe(accepted[1]);

      // Worker 2 stops cleanly and gives its lease up: worker 1 takes every tracker over at its next renewal.
      await w2.stop();
      w2Running = false;
      await until('worker 1 alone', async () => (await gauge(w1)) === 1);
      expect(await w1.sql('SELECT worker_id FROM ingest_workers')).toEqual([
        { worker_id: w1.config.MQTT_CLIENT_ID },
      ]);
      await burst(clients, trackers, IN_FLIGHT + 1, IN_FLIGHT + 10);
      await until(
        'the next messages stored',
        async () => (await stored(w1, ids)).distinct === sent + TRACKERS * 10,
      );
      expect(await stored(w1, ids)).toMatchObject({
        n: sent + TRACKERS * 10,
        late_received: 0,
        late_committed: 0,
      });
      expect(await counter(w1, 'messages')).toBe(accepted[0]! + TRACKERS * 10);
    },
  );
});

describe('a worker routing by sender that dies', () => {
  it('has its trackers taken over when its lease runs out, and their resent messages are stored once', {
    timeout: 120_000,
  }, async () => {
    const databaseUrl = await createTestDatabase(inject('pgAdminUrl'));
    const broker = await startAedes();
    cleanups.push(() => broker.stop());
    const routing = { INGEST_ROUTING: 'by-sender', INGEST_WORKER_LEASE_S: '2' };
    const w1 = await startTestChipwatch({ DATABASE_URL: databaseUrl, MQTT_URL: broker.url, ...routing });
    cleanups.push(() => w1.stop());
    const port = await freePort();
    const w2 = await spawnChipwatch(
      {
        ...routing,
        DATABASE_URL: databaseUrl,
        MQTT_URL: broker.url,
        ...serviceEnv(broker),
        HTTP_PORT: String(port),
        BIND_HOST: '127.0.0.1',
        AUTH_JWT_SECRET: TEST_SECRET,
        DISPATCHER: 'off',
        MQTT_CLIENT_ID: 'cw-route-dies',
      },
      `http://127.0.0.1:${port}`,
    );
    cleanups.push(async () => {
      w2.proc.kill('SIGKILL');
      await w2.exited;
    });
    await until('worker 1 sees worker 2', async () => (await gauge(w1)) === 2);

    const workers = [w1.config.MQTT_CLIENT_ID, 'cw-route-dies'].sort();
    const registered: RegisteredSender[] = [];
    for (let i = 0; registered.length < 6; i++) registered.push(await registerDevice(w1, `trk-dies-${i}`));
    const ofW2 = registered.filter(
      (t) => ownerOf(`chipwatch/v1/devices/${t.id}/telemetry`, workers) === 'cw-route-dies',
    );
    expect(ofW2.length).toBeGreaterThan(0); // some trackers are the dying worker's
    const trackers = registered.map(
      (t) =>
        new Tracker({
          deviceId: t.id,
          key: t.key,
          mqttUrl: broker.url,
          mqttPassword: t.mqttPassword,
          clientId: t.id,
          ackKey: w1.ackKey, // both workers sign with the one ack key of the shared data folder
          resendAfterMs: 500,
        }),
    );
    cleanups.push(async () => {
      for (const t of trackers) await t.close();
    });
    await Promise.all(trackers.map((t) => t.waitConnected()));
    const send = (t: Tracker, n: number) => {
      for (let k = 0; k < n; k++) t.send([{ ts: Date.now() - 60_000 + t.nextSeq, lat: 40, lon: -30 }]);
    };
    for (const t of trackers) send(t, 5);
    expect(await Promise.all(trackers.map((t) => t.waitAllAcked(30_000)))).toEqual(trackers.map(() => true));

    w2.proc.kill('SIGKILL');
    await w2.exited;
    // Sent at once: worker 1 still counts worker 2 live and leaves its trackers' messages, unacked to them.
    for (const t of trackers) send(t, 5);
    expect(await Promise.all(trackers.map((t) => t.waitAllAcked(60_000)))).toEqual(trackers.map(() => true));
    expect(await gauge(w1)).toBe(1);
    const [row] = await w1.sql(
      `SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS distinct FROM messages
        WHERE device_id LIKE 'trk-dies-%'`,
    );
    expect(row).toEqual({ n: 60, distinct: 60 });
    // Worker 2's lease is still in the table, only no longer live.
    expect(await w1.sql('SELECT worker_id FROM ingest_workers ORDER BY worker_id')).toHaveLength(2);
  });
});
