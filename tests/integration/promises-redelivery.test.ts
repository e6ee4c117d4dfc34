// Broker redelivery on its own: chipwatch (a separate process) takes a message it cannot commit yet and is killed
// with SIGKILL; nothing resends it but the broker, to the persistent session of the same client id when chipwatch
// comes back. On the embedded aedes and on Mosquitto as deployed. A raw tracker client sends each message once and
// never resends, so only redelivery can store it — and it must be stored once.
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { serviceEnv, startAedes, type TestBroker } from '../helpers/broker.ts';
import { apiAt, type RegisteredSender, registerDevice, TEST_SECRET, until } from '../helpers/chipwatch.ts';
import {
  findMosquittoDynsec,
  skipWithoutMosquitto,
  startMosquittoForChipwatch,
} from '../helpers/mosquitto.ts';
import { createTestDatabase, freePort } from '../helpers/postgres.ts';
import { type ChildChipwatch, spawnChipwatch } from '../helpers/process.ts';

const mosquitto = findMosquittoDynsec();

const telemetry = (d: RegisteredSender, seq: number) =>
  signCompactJws(buildTelemetry(d.id, seq, [{ ts: Date.now() - 60_000, lat: 10, lon: 20 }]), d.key);

async function redeliveredAfterKill(broker: TestBroker, brokerEnv: Record<string, string>) {
  const databaseUrl = await createTestDatabase(inject('pgAdminUrl'));
  broker.attachDatabase?.(databaseUrl);
  const port = await freePort();
  const httpUrl = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: databaseUrl,
    MQTT_URL: broker.url,
    HTTP_PORT: String(port),
    BIND_HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    INGEST_BATCH_MS: '10',
    MQTT_CLIENT_ID: `cw-redeliver-${port}`, // the same persistent session after the restart
    ...brokerEnv,
  };
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  sql.on('error', () => {});
  let child: ChildChipwatch | undefined;
  const holder = new pg.Client(databaseUrl);
  try {
    child = await spawnChipwatch(env, httpUrl);
    const d = await registerDevice(apiAt(httpUrl));
    const seqs = async () =>
      (await sql.query('SELECT seq FROM messages WHERE device_id = $1 ORDER BY seq', [d.id])).rows.map((r) =>
        Number(r.seq),
      );
    const tracker = await mqtt.connectAsync(broker.url, { ...d.mqtt, clean: true, reconnectPeriod: 0 });
    try {
      const topic = `chipwatch/v1/devices/${d.id}/telemetry`;
      await tracker.publishAsync(topic, telemetry(d, 1), { qos: 1 });
      await until('seq 1 stored', async () => (await seqs()).includes(1));
      // Hold the device's state row: the batch of seq 2 is taken and waits to commit.
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM device_state WHERE device_id = $1 FOR UPDATE', [d.id]);
      await tracker.publishAsync(topic, telemetry(d, 2), { qos: 1 });
      await until('the batch of seq 2 waiting to commit', async () => {
        const r = await holder.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return r.rows[0].n > 0;
      });
      child.proc.kill('SIGKILL');
      await child.exited;
      child = undefined;
      await holder.query('COMMIT');
      expect(await seqs()).toEqual([1]);
      // Back with the same client id: the broker redelivers what was never acknowledged.
      child = await spawnChipwatch(env, httpUrl);
      await until('seq 2 redelivered and stored', async () => (await seqs()).includes(2), 30_000);
      expect(await seqs()).toEqual([1, 2]);
      const [t] = (await sql.query('SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1', [d.id]))
        .rows;
      expect(t.n).toBe(2);
    } finally {
      await tracker.endAsync();
    }
  } finally {
    child?.proc.kill('SIGKILL');
    await child?.exited;
    await holder.end().catch(() => {});
    await sql.end();
  }
}

describe('broker redelivery after chipwatch dies before the commit', () => {
  let aedes: TestBroker | undefined;
  afterAll(async () => {
    await aedes?.stop();
  });

  it('on the embedded aedes: the message is redelivered to the same client id and stored once', {
    timeout: 180_000,
  }, async () => {
    aedes = await startAedes();
    await redeliveredAfterKill(aedes, serviceEnv(aedes));
  });
});

describe.skipIf(skipWithoutMosquitto(mosquitto))(
  `broker redelivery on Mosquitto${mosquitto.ok ? '' : ` — skipped: ${mosquitto.reason}`}`,
  () => {
    let broker: Awaited<ReturnType<typeof startMosquittoForChipwatch>> | undefined;
    beforeAll(async () => {
      broker = await startMosquittoForChipwatch();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it('on Mosquitto as deployed: the message is redelivered to the same client id and stored once', {
      timeout: 180_000,
    }, async () => {
      await redeliveredAfterKill(broker!, broker!.env);
    });
  },
);
