// The ingest's promises, each tested so that breaking it fails here (docs: /work/notes/tests-readme.md's table):
// the PUBACK leaves only after the commit, a two-worker race over senders with existing state is serialised by the
// replay window's row lock, an alert counts its repeated evidence. The commit is held by a test transaction holding the
// device's state row, which the batch's FOR UPDATE must wait for; every wait is on a condition, never a sleep.
import mqtt from 'mqtt';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { insertDevice } from '../../src/db/devices.ts';
import type { Inbound } from '../../src/domain/messages.ts';
import { IngestPipeline } from '../../src/ingest/pipeline.ts';
import { normalizePublicJwk } from '../../src/verify/keys.ts';
import { startOpenAedes } from '../helpers/broker.ts';
import { type RegisteredSender, registerDevice, until } from '../helpers/chipwatch.ts';
import { pipelineTestOptions, useMigratedPools } from '../helpers/pipeline.ts';
import { useChipwatch } from '../helpers/stack.ts';

const telemetry = (d: RegisteredSender, seq: number, records = 1) =>
  signCompactJws(
    buildTelemetry(
      d.id,
      seq,
      Array.from({ length: records }, (_, i) => ({
        ts: Date.now() - 60_000 + i,
        lat: 10 + i * 1e-4,
        lon: 20,
      })),
    ),
    d.key,
  );

/** A test transaction holding `deviceId`'s state row: the ingest's next batch for it waits until release(). */
async function holdCommits(databaseUrl: string, deviceId: string) {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  await client.query('BEGIN');
  const held = await client.query('SELECT 1 FROM device_state WHERE device_id = $1 FOR UPDATE', [deviceId]);
  expect(held.rowCount, 'the device has a state row to hold').toBe(1);
  return {
    /** True once another session waits on a lock in this database: the ingest's batch reached FOR UPDATE. */
    ingestWaiting: async () =>
      (
        await client.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        )
      ).rows[0].n > 0,
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

describe('the PUBACK leaves after the commit (chipwatch against a real aedes)', () => {
  const env = useChipwatch({}, startOpenAedes);

  it('sends no PUBACK for a message whose batch is waiting to commit, and sends it once the batch is stored', async () => {
    const { cw, broker, databaseUrl } = env;
    const d = await registerDevice(cw);
    const tracker = await mqtt.connectAsync(broker.url, { clientId: d.id, clean: true, reconnectPeriod: 0 });
    try {
      const topic = `chipwatch/v1/devices/${d.id}/telemetry`;
      await tracker.publishAsync(topic, telemetry(d, 1), { qos: 1 });
      await until('seq 1 stored', async () => (await stored(cw, d.id)).includes(1));
      // PUBACKs chipwatch's session sends to the broker, by payload.
      const acked: string[] = [];
      broker.aedes.on('ack', (packet, client) => {
        if (client?.id === cw.config.MQTT_CLIENT_ID && packet && 'payload' in packet)
          acked.push(String(packet.payload));
      });
      const hold = await holdCommits(databaseUrl, d.id);
      const second = telemetry(d, 2);
      await tracker.publishAsync(topic, second, { qos: 1 });
      await until('the batch of seq 2 waiting on the held row', hold.ingestWaiting);
      // chipwatch has taken seq 2 from the broker and cannot commit it: the broker must not have its PUBACK.
      expect(acked).not.toContain(second);
      expect(await stored(cw, d.id)).toEqual([1]);
      await hold.release();
      await until('the PUBACK of seq 2', async () => acked.includes(second));
      expect(await stored(cw, d.id)).toEqual([1, 2]);
    } finally {
      await tracker.endAsync();
    }
  });
});

async function stored(
  cw: { sql: (q: string, v?: unknown[]) => Promise<any[]> },
  id: string,
): Promise<number[]> {
  const rows = await cw.sql('SELECT seq FROM messages WHERE device_id = $1 ORDER BY seq', [id]);
  return rows.map((r) => Number(r.seq));
}

describe('pipeline promises over a real database', () => {
  const opts = pipelineTestOptions({ rawCapBytes: 1024 });
  const db = useMigratedPools(2);

  const senders = async (ids: string[]) => {
    const out: RegisteredSender[] = [];
    for (const id of ids) {
      const key = generateDeviceKey();
      expect(await insertDevice(db.pools[0]!, id, normalizePublicJwk(key.publicJwk), 'test')).toBe(true);
      out.push({
        id,
        deviceId: id,
        key,
        mqttPassword: '',
        mqtt: { username: id, password: '', clientId: id },
        body: {},
      });
    }
    return out;
  };
  const inbound = (d: RegisteredSender, seq: number, payload = telemetry(d, seq)): Inbound => ({
    topic: `chipwatch/v1/devices/${d.id}/telemetry`,
    payload: Buffer.from(payload),
    receivedAt: Date.now(),
  });

  it('two workers racing over devices that already have state accept each (device, seq) exactly once', async () => {
    const devices = await senders(['trk-race-1', 'trk-race-2', 'trk-race-3']);
    const p0 = new IngestPipeline(db.pools[0]!, opts);
    // State rows exist before the race: no INSERT … ON CONFLICT serialises the workers, only FOR UPDATE does.
    await p0.commit(await p0.screen(devices.map((d) => inbound(d, 1))));
    const [before] = (
      await db.pools[0]!.query(
        "SELECT count(*)::int AS n FROM device_state WHERE device_id LIKE 'trk-race-%'",
      )
    ).rows;
    expect(before.n).toBe(3);
    const batch = devices.flatMap((d) => Array.from({ length: 30 }, (_, i) => inbound(d, i + 2)));
    const workers = db.pools.map((p) => new IngestPipeline(p, opts));
    const screened = await Promise.all(
      workers.map((w, i) => w.screen(i === 0 ? batch : [...batch].reverse())),
    );
    const outcomes = await Promise.all(workers.map((w, i) => w.commit(screened[i]!)));
    const kinds = outcomes.flatMap((o) => o.verdicts.map((v) => v.kind));
    expect(kinds.filter((k) => k === 'accepted')).toHaveLength(batch.length);
    expect(kinds.filter((k) => k === 'duplicate')).toHaveLength(batch.length);
    const states = (
      await db.pools[0]!.query(
        "SELECT device_id, highest_seq, messages FROM device_state WHERE device_id LIKE 'trk-race-%' ORDER BY 1",
      )
    ).rows;
    expect(states).toEqual(devices.map((d) => ({ device_id: d.id, highest_seq: 31, messages: 31 })));
  });

  it('counts repeated evidence on one alert: REPLAY raised in three batches has count 4, lastSeenAt moved each time', async () => {
    const [d] = await senders(['trk-count']);
    const p = new IngestPipeline(db.pools[0]!, opts);
    await p.commit(await p.screen([1, 2, 3].map((s) => inbound(d!, s))));
    const replay = (seq: number, lat: number) =>
      inbound(
        d!,
        seq,
        signCompactJws(buildTelemetry(d!.id, seq, [{ ts: Date.now() - 1000, lat, lon: 1 }]), d!.key),
      );
    const alert = async () =>
      (
        await db.pools[0]!.query(
          "SELECT count, opened_at, last_seen_at FROM alerts WHERE type = 'REPLAY' AND subject = 'device:trk-count'",
        )
      ).rows;
    const seen: { count: number; openedAt: Date; lastSeenAt: Date }[] = [];
    for (const batch of [[replay(1, 40)], [replay(2, 41)], [replay(3, 42), replay(2, 43)]]) {
      const out = await p.commit(await p.screen(batch));
      expect(out.verdicts.map((v) => (v.kind === 'rejected' ? v.reason : v.kind))).toEqual(
        batch.map(() => 'REPLAY'),
      );
      const rows = await alert();
      expect(rows).toHaveLength(1);
      seen.push({
        count: Number(rows[0].count),
        openedAt: rows[0].opened_at,
        lastSeenAt: rows[0].last_seen_at,
      });
    }
    expect(seen.map((s) => s.count)).toEqual([1, 2, 4]);
    expect(new Set(seen.map((s) => s.openedAt.getTime())).size).toBe(1);
    expect(seen[1]!.lastSeenAt.getTime()).toBeGreaterThan(seen[0]!.lastSeenAt.getTime());
    expect(seen[2]!.lastSeenAt.getTime()).toBeGreaterThan(seen[1]!.lastSeenAt.getTime());
  });
});
