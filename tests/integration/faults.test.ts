// Faults: the database stopped during a steady stream, and chipwatch killed with SIGKILL mid-stream. In both, every
// message the tracker sent is stored exactly once and the tracker got every ack.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { mintToken } from '../../src/auth.ts';
import { serviceEnv, startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  registerDevice,
  startTestChipwatch,
  TEST_SECRET,
  type TestChipwatch,
  until,
} from '../helpers/chipwatch.ts';
import { createTestDatabase, freePort, startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { fetchAckKey, spawnChipwatch } from '../helpers/process.ts';

const OUTAGE_S = Number(process.env.FAULT_OUTAGE_S ?? 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one message every `everyMs` until stopped. */
function stream(tracker: Tracker, everyMs: number) {
  let i = 0;
  const timer = setInterval(() => {
    const ts = Date.now() - 1000;
    tracker.send([{ ts, lat: 10 + (i % 50) * 0.01, lon: 60 + (i % 50) * 0.01 }]);
    i++;
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}

/** The highest seq of `deviceId` stored (0 when none, or while the database does not answer). */
async function storedUpTo(
  sql: (q: string, v?: unknown[]) => Promise<any[]>,
  deviceId: string,
): Promise<number> {
  try {
    const [r] = await sql('SELECT coalesce(max(seq), 0)::int AS hi FROM messages WHERE device_id = $1', [
      deviceId,
    ]);
    return r.hi;
  } catch {
    return 0;
  }
}

async function assertExactlyOnce(
  sql: (q: string, v?: unknown[]) => Promise<any[]>,
  deviceId: string,
  sent: number,
) {
  const [m] = await sql(
    'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d, min(seq)::int AS lo, max(seq)::int AS hi FROM messages WHERE device_id = $1',
    [deviceId],
  );
  const [t] = await sql(
    'SELECT count(*)::int AS n, count(DISTINCT (seq, idx))::int AS d FROM telemetry WHERE device_id = $1',
    [deviceId],
  );
  expect({ messages: m.n, distinct: m.d, lo: m.lo, hi: m.hi }).toEqual({
    messages: sent,
    distinct: sent,
    lo: 1,
    hi: sent,
  });
  expect({ records: t.n, distinct: t.d }).toEqual({ records: sent, distinct: sent });
}

describe('database outage during a steady stream', () => {
  let db: TestPostgres;
  let broker: TestBroker;
  let cw: TestChipwatch;
  let tracker: Tracker;

  beforeAll(async () => {
    db = await startTestPostgres();
    broker = await startAedes();
    cw = await startTestChipwatch({ DATABASE_URL: db.url, MQTT_URL: broker.url });
  });
  afterAll(async () => {
    await tracker?.close();
    await cw?.stop();
    await broker?.stop();
    await db?.destroy();
  });

  it(`loses nothing and stores nothing twice when PostgreSQL is down for ${OUTAGE_S} s`, {
    timeout: (OUTAGE_S + 120) * 1000,
  }, async () => {
    const { key, mqttPassword } = await registerDevice(cw, 'trk-outage');
    tracker = new Tracker({
      deviceId: 'trk-outage',
      key,
      mqttUrl: broker.url,
      ackKey: cw.ackKey,
      mqttPassword,
      resendAfterMs: 2000,
    });
    await tracker.waitConnected();
    const s = stream(tracker, 50);
    await until(
      'the stream stored before the outage',
      async () => (await storedUpTo(cw.sql, 'trk-outage')) >= 20,
    );
    await db.stop();
    const downAt = Date.now();
    const during = (await until('/readyz to report the database down', async () => {
      const r = await cw.api('GET', '/readyz', { role: null });
      return r.status === 503 ? r : undefined;
    }))!;
    expect(during.body.database).toBe(false);
    const apiDuring = await cw.api('GET', '/v1/devices/trk-outage/positions', { role: 'logistics' });
    expect(apiDuring.status).toBe(503);
    expect(apiDuring.body.error.code).toBe('UNAVAILABLE');
    // Deliberately a fixed time: the stream runs on through an outage of OUTAGE_S seconds.
    await sleep(Math.max(0, downAt + OUTAGE_S * 1000 - Date.now()));
    await db.restart();
    const sentAtRestart = tracker.stats.sent;
    await until(
      'messages sent after the restart stored',
      async () => (await storedUpTo(cw.sql, 'trk-outage')) > sentAtRestart + 20,
      60_000,
    );
    s.stop();
    expect(await tracker.waitAllAcked(60_000)).toBe(true);
    expect(tracker.stats.sent).toBeGreaterThan(OUTAGE_S * 10);
    await assertExactlyOnce(cw.sql, 'trk-outage', tracker.stats.sent);
    expect((await cw.api('GET', '/readyz', { role: null })).status).toBe(200);
  });
});

describe('chipwatch killed with SIGKILL mid-stream, then restarted', () => {
  let broker: TestBroker;
  let dbUrl: string;
  let sqlPool: pg.Pool;
  let tracker: Tracker;

  beforeAll(async () => {
    dbUrl = await createTestDatabase(inject('pgAdminUrl'));
    // The broker outlives chipwatch's restarts and reads trackers' credentials from its database.
    broker = await startAedes({ databaseUrl: dbUrl });
    sqlPool = new pg.Pool({ connectionString: dbUrl, max: 2 });
    sqlPool.on('error', () => {});
  });
  afterAll(async () => {
    await tracker?.close();
    await sqlPool?.end();
    await broker?.stop();
  });

  it('loses nothing and stores nothing twice', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const httpUrl = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: dbUrl,
      MQTT_URL: broker.url,
      HTTP_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      AUTH_JWT_SECRET: TEST_SECRET,
      MQTT_CLIENT_ID: 'cw-sigkill', // the same persistent session after the restart
      ...serviceEnv(broker),
    };
    let child = await spawnChipwatch(env, httpUrl);
    const token = await mintToken(new TextEncoder().encode(TEST_SECRET), {
      sub: 't',
      role: 'admin',
      issuer: 'chipwatch',
      ttlS: 600,
    });
    const key = generateDeviceKey();
    const res = await fetch(`${httpUrl}/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'trk-kill', publicKeyJwk: key.publicJwk }),
    });
    expect(res.status).toBe(201);
    const registered = (await res.json()) as { mqttPassword: string };
    tracker = new Tracker({
      deviceId: 'trk-kill',
      key,
      mqttUrl: broker.url,
      ackKey: await fetchAckKey(httpUrl),
      mqttPassword: registered.mqttPassword,
      resendAfterMs: 2000,
    });
    await tracker.waitConnected();
    const sql = async (q: string, v?: unknown[]) => (await sqlPool.query(q, v)).rows;
    const s = stream(tracker, 10);
    await until('the stream stored before the kill', async () => (await storedUpTo(sql, 'trk-kill')) >= 50);
    child.proc.kill('SIGKILL');
    await child.exited;
    // Deliberately a fixed time: the tracker keeps sending for a second while no chipwatch runs.
    await sleep(1000);
    child = await spawnChipwatch(env, httpUrl);
    const sentAtRestart = tracker.stats.sent;
    await until(
      'messages sent after the restart stored',
      async () => (await storedUpTo(sql, 'trk-kill')) > sentAtRestart + 50,
      60_000,
    );
    s.stop();
    expect(await tracker.waitAllAcked(60_000)).toBe(true);
    await assertExactlyOnce(sql, 'trk-kill', tracker.stats.sent);

    // Ctrl-C: a clean exit with everything taken committed.
    const sentBeforeBurst = tracker.stats.sent;
    const burst = stream(tracker, 2);
    await until(
      'the burst flowing into the database',
      async () => (await storedUpTo(sql, 'trk-kill')) > sentBeforeBurst + 20,
    );
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe(0);
    burst.stop();
    expect(child.output()).toContain('stopped cleanly');
    child = await spawnChipwatch(env, httpUrl);
    expect(await tracker.waitAllAcked(60_000)).toBe(true);
    await assertExactlyOnce(sql, 'trk-kill', tracker.stats.sent);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});
