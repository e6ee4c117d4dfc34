// Every read of a shipment's time series is bounded by the shipment's own span, on plain PostgreSQL and on
// TimescaleDB (TIMESCALE_TEST_URL: a superuser URL of a server with timescaledb preloaded; unset → those tests are
// skipped, which is the CI case). On TimescaleDB also: the evidence tables are compressed hypertables, the hourly
// aggregate exists, retention follows RETENTION_DAYS, and a failed background job shows in /readyz and /metrics.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { healthRouter } from '../../src/api/routes/health.ts';
import { shipmentsCarrying } from '../../src/db/chips.ts';
import {
  insertMessages,
  insertTelemetry,
  storedHashes,
  type TelemetryRow,
} from '../../src/db/ingest-store.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool, withTransaction } from '../../src/db/pool.ts';
import { listPositions, shipmentTrack } from '../../src/db/queries.ts';
import { applyRetention, failedTimescaleJobs, RETAINED } from '../../src/db/timescale.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const TIMESCALE_URL = process.env.TIMESCALE_TEST_URL;
if (!TIMESCALE_URL)
  console.warn('TimescaleDB tests skipped: set TIMESCALE_TEST_URL to a server with timescaledb');

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function fix(deviceId: string, ts: number, seq: number, shipmentId: string | null): TelemetryRow {
  return {
    deviceId,
    ts,
    seq,
    idx: 0,
    lat: 22 + seq / 1000,
    lon: 120 + seq / 1000,
    altM: null,
    speedKmh: 30,
    headingDeg: null,
    hdop: 0.9,
    satellites: 9,
    batteryPct: 80,
    temperatureC: null,
    lightLux: null,
    tamper: false,
    receivedAt: ts + 1000,
    shipmentId,
    flags: [],
  };
}

async function addShipment(db: Pool, id: string, deviceId: string, status: string, chips: string[] = []) {
  await db.query('INSERT INTO devices (id) VALUES ($1) ON CONFLICT DO NOTHING', [deviceId]);
  await db.query(
    `INSERT INTO shipments (id, device_id, mode, origin, destination, route, route_length_km, corridor_km,
                            report_interval_s, status, chips)
     VALUES ($1, $2, 'sea', '{}', '{}', '[]', 100, 50, 300, $3, $4)`,
    [id, deviceId, status, chips],
  );
}

/** Fixes every `stepMs` from `fromMs` to `toMs` (exclusive), seqs from `seq0`. */
function fixes(
  deviceId: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
  seq0: number,
  shipment: string | null,
) {
  const rows: TelemetryRow[] = [];
  for (let t = fromMs, s = seq0; t < toMs; t += stepMs, s++) rows.push(fix(deviceId, t, s, shipment));
  return rows;
}

/** Drops a test database (each TimescaleDB database holds a background worker of the server while it exists). */
async function dropDatabase(adminUrl: string, url: string) {
  const admin = createPool(adminUrl, 1);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Runs a read through a pool that passes its queries on and keeps the last one, then EXPLAINs that one. */
async function explain(
  db: Pool,
  read: (recording: Pool) => Promise<unknown>,
  analyze = false,
): Promise<string> {
  let sql = '';
  let params: unknown[] = [];
  const recording = {
    query: (text: string, values: unknown[]) => {
      sql = text;
      params = values;
      return db.query(text, values);
    },
  } as unknown as Pool;
  await read(recording);
  const opts = analyze ? '(ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)' : '(COSTS OFF)';
  const res = await db.query(`EXPLAIN ${opts} ${sql}`, params);
  return res.rows.map((r) => r['QUERY PLAN'] as string).join('\n');
}

function boundedReads(name: string, adminUrl: () => string) {
  describe(`a shipment's reads stay inside its span (${name})`, () => {
    let db: Pool;
    let url: string;
    beforeAll(async () => {
      url = await createTestDatabase(adminUrl());
      await migrate(url);
      db = createPool(url, 4);
      // One tracker, three journeys: untagged fixes before, shipment S (days 10–13), shipment S2 (days 20–23).
      await addShipment(db, 'S', 'trk-1', 'arrived', ['SN-1']);
      await addShipment(db, 'S2', 'trk-1', 'in_transit');
      await withTransaction(db, async (c) => {
        await insertTelemetry(c, fixes('trk-1', T0, T0 + 5 * DAY, 3_600_000, 0, null));
        await insertTelemetry(c, fixes('trk-1', T0 + 10 * DAY, T0 + 13 * DAY, 3_600_000, 1000, 'S'));
        await insertTelemetry(c, fixes('trk-1', T0 + 20 * DAY, T0 + 23 * DAY, 3_600_000, 2000, 'S2'));
      });
    }, 120_000);
    afterAll(async () => {
      await db?.end();
      if (url) await dropDatabase(adminUrl(), url);
    });

    it('stores the span of each shipment with its fixes', async () => {
      const res = await db.query('SELECT id, fixes_from, fixes_to FROM shipments ORDER BY id');
      expect(res.rows.map((r) => [r.id, r.fixes_from.getTime(), r.fixes_to.getTime()])).toEqual([
        ['S', T0 + 10 * DAY, T0 + 13 * DAY - 3_600_000],
        ['S2', T0 + 20 * DAY, T0 + 23 * DAY - 3_600_000],
      ]);
    });

    it('widens a span, its count and its latest receipt with every batch, in batch order or not', async () => {
      const before = await db.query(
        'SELECT fixes_from, fixes_to, fixes_received_to, fix_count FROM shipments WHERE id = $1',
        ['S2'],
      );
      expect(Number(before.rows[0].fix_count)).toBe(72);
      // One batch of fixes around the span's ends, received late, out of order, for S2 and an unbound tracker.
      const late = [
        { ...fix('trk-1', T0 + 25 * DAY, 5000, 'S2'), receivedAt: T0 + 40 * DAY },
        fix('trk-2', T0 + 50 * DAY, 1, null),
        { ...fix('trk-1', T0 + 19 * DAY, 5001, 'S2'), receivedAt: T0 + 30 * DAY },
      ];
      await withTransaction(db, (c) => insertTelemetry(c, late));
      const after = await db.query(
        'SELECT fixes_from, fixes_to, fixes_received_to, fix_count FROM shipments WHERE id = $1',
        ['S2'],
      );
      expect([
        after.rows[0].fixes_from.getTime(),
        after.rows[0].fixes_to.getTime(),
        after.rows[0].fixes_received_to.getTime(),
        Number(after.rows[0].fix_count),
      ]).toEqual([T0 + 19 * DAY, T0 + 25 * DAY, T0 + 40 * DAY, 74]);
      // Back as it was for the reads below.
      await db.query(`DELETE FROM telemetry WHERE seq >= 5000 OR device_id = 'trk-2'`);
      await db.query(
        'UPDATE shipments SET fixes_from = $2, fixes_to = $3, fixes_received_to = $4, fix_count = $5 WHERE id = $1',
        [
          'S2',
          before.rows[0].fixes_from,
          before.rows[0].fixes_to,
          before.rows[0].fixes_received_to,
          before.rows[0].fix_count,
        ],
      );
    });

    it('returns exactly the fixes of the span: not those before, after, nor a tagged row outside it', async () => {
      // A row tagged S but outside S's span, written behind the span's back: the bound keeps it out of every read.
      await db.query(
        `INSERT INTO telemetry (device_id, ts, seq, idx, lat, lon, received_at, shipment_id)
         VALUES ('trk-1', $1, 9999, 0, 0, 0, $1, 'S')`,
        [new Date(T0 + 30 * DAY)],
      );
      const track = await shipmentTrack(db, 'S', 5000);
      expect(track).toHaveLength(72);
      expect(track[0]!.ts).toBe(new Date(T0 + 10 * DAY).toISOString());
      expect(track.at(-1)!.ts).toBe(new Date(T0 + 13 * DAY - 3_600_000).toISOString());

      const positions = await listPositions(db, {
        shipmentId: 'S',
        fromMs: 0,
        toMs: T0 + 365 * DAY,
        limit: 1000,
      });
      expect(positions).toHaveLength(72);
      expect(positions.every((p) => p.position.shipmentId === 'S')).toBe(true);

      const [carried] = await shipmentsCarrying(db, 'SN-1');
      expect(carried?.fixes).toMatchObject({ count: 72 });
    });

    it('reads nothing for a shipment without fixes', async () => {
      await addShipment(db, 'S3', 'trk-3', 'planned');
      expect(await shipmentTrack(db, 'S3', 5000)).toEqual([]);
    });

    it('EXPLAIN of the track and the positions shows the time bound on telemetry', async () => {
      const track = await explain(db, (r) => shipmentTrack(r, 'S', 5000));
      const positions = await explain(db, (r) =>
        listPositions(r, { shipmentId: 'S', fromMs: 0, toMs: T0 + 365 * DAY, limit: 1000 }),
      );
      for (const plan of [track, positions]) {
        expect(plan).toMatch(/ts >= /);
        expect(plan).toMatch(/ts <=? /);
      }
      if (process.env.EXPLAIN_OUT) {
        const { appendFileSync } = await import('node:fs');
        appendFileSync(
          process.env.EXPLAIN_OUT,
          `\n## ${name}: track\n${track}\n\n## ${name}: positions\n${positions}\n`,
        );
      }
    });

    it('/readyz and /metrics report failed TimescaleDB jobs (none here)', async () => {
      const metrics = createMetrics();
      const app = healthRouter(
        { database: async () => true, broker: () => true, timescaleJobs: () => failedTimescaleJobs(db) },
        metrics,
      );
      const body = (await (await app.request('/readyz')).json()) as { status: string; timescale?: unknown };
      expect(body.status).toBe('ready');
      if (name === 'PostgreSQL') expect(body.timescale).toBeUndefined();
      else expect(body.timescale).toEqual({ failedJobs: [] });
    });
  });
}

boundedReads('PostgreSQL', () => inject('pgAdminUrl'));

describe.skipIf(!TIMESCALE_URL)('on TimescaleDB', () => {
  boundedReads('TimescaleDB', () => TIMESCALE_URL!);

  let db: Pool;
  let url: string;
  beforeAll(async () => {
    url = await createTestDatabase(TIMESCALE_URL!);
    await migrate(url);
    db = createPool(url, 4);
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    if (url) await dropDatabase(TIMESCALE_URL!, url);
  });

  it('makes the evidence tables and attestations compressed hypertables, and the hourly aggregate', async () => {
    const res = await db.query(
      `SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables ORDER BY 1`,
    );
    expect(res.rows).toEqual(
      expect.arrayContaining(
        ['attestation_messages', 'attestations', 'messages', 'telemetry'].map((t) => ({
          hypertable_name: t,
          compression_enabled: true,
        })),
      ),
    );
    const jobs = await db.query(
      `SELECT coalesce(c.view_name, j.hypertable_name) AS name, j.proc_name
         FROM timescaledb_information.jobs j
         LEFT JOIN timescaledb_information.continuous_aggregates c ON c.materialization_hypertable_name = j.hypertable_name
        WHERE j.job_id >= 1000 ORDER BY 1, 2`,
    );
    expect(jobs.rows).toEqual([
      { name: 'attestation_messages', proc_name: 'policy_compression' },
      { name: 'attestations', proc_name: 'policy_compression' },
      { name: 'messages', proc_name: 'policy_compression' },
      { name: 'telemetry', proc_name: 'policy_compression' },
      { name: 'telemetry_hourly', proc_name: 'policy_compression' },
      { name: 'telemetry_hourly', proc_name: 'policy_refresh_continuous_aggregate' },
    ]);
  });

  it('applies the retention of RETENTION_DAYS to every time-series table, and 0 removes it', async () => {
    expect(await applyRetention(db, 1827)).toEqual([...RETAINED]);
    const policies = async () =>
      (
        await db.query(
          `SELECT coalesce(c.view_name, j.hypertable_name) AS name, j.config->>'drop_after' AS drop_after
             FROM timescaledb_information.jobs j
             LEFT JOIN timescaledb_information.continuous_aggregates c
                    ON c.materialization_hypertable_name = j.hypertable_name
            WHERE j.proc_name = 'policy_retention' ORDER BY 1`,
        )
      ).rows;
    expect(await policies()).toEqual([...RETAINED].sort().map((name) => ({ name, drop_after: '1827 days' })));
    await applyRetention(db, 30); // a restart with another setting replaces the policy
    expect((await policies()).map((p) => p.drop_after)).toEqual(RETAINED.map(() => '30 days'));
    expect(await applyRetention(db, 0)).toEqual([]);
    expect(await policies()).toEqual([]);
  });

  it('reports a background job whose last run failed in /readyz and as chipwatch_timescale_jobs_failed', async () => {
    await db.query(
      `CREATE PROCEDURE failing_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`,
    );
    const job = await db.query(
      `SELECT add_job('failing_job', INTERVAL '1 hour', initial_start => now()) AS id`,
    );
    const jobId = Number(job.rows[0].id);
    let failed = await failedTimescaleJobs(db);
    for (let i = 0; i < 300 && !failed?.some((j) => j.jobId === jobId); i++) {
      await new Promise((r) => setTimeout(r, 200));
      failed = await failedTimescaleJobs(db);
    }
    expect(failed).toEqual(
      expect.arrayContaining([expect.objectContaining({ jobId, proc: 'failing_job', totalFailures: 1 })]),
    );
    const metrics = createMetrics();
    const app = healthRouter(
      { database: async () => true, broker: () => true, timescaleJobs: () => failedTimescaleJobs(db) },
      metrics,
    );
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200); // reported, not a reason to leave the load balancer
    const body = (await ready.json()) as { timescale: { failedJobs: { jobId: number }[] } };
    expect(body.timescale.failedJobs.map((j) => j.jobId)).toContain(jobId);
    expect(await (await app.request('/metrics')).text()).toMatch(/^chipwatch_timescale_jobs_failed 1$/m);
    await db.query('SELECT delete_job($1)', [jobId]);
  }, 90_000);

  it('reads a shipment over compressed history from its own chunks only, and the same fixes as before', async () => {
    await addShipment(db, 'LONG', 'trk-long', 'arrived');
    await withTransaction(db, async (c) => {
      await insertTelemetry(c, fixes('trk-long', T0, T0 + 60 * DAY, 3_600_000, 0, null));
      await insertTelemetry(c, fixes('trk-long', T0 + 60 * DAY, T0 + 63 * DAY, 600_000, 10_000, 'LONG'));
      await insertTelemetry(c, fixes('trk-long', T0 + 63 * DAY, T0 + 90 * DAY, 3_600_000, 20_000, null));
      await insertMessages(
        c,
        [0, 1, 2].map((i) => ({
          deviceId: 'trk-long',
          seq: 30_000 + i,
          payloadSha256: Buffer.alloc(32, i),
          kid: 'k',
          topic: 't',
          jws: `eyJ.${'x'.repeat(600)}.${i}`,
          recordCount: 1,
          receivedAt: T0 + i * 40 * DAY,
        })),
      );
    });
    const before = await shipmentTrack(db, 'LONG', 5000);
    const compressed = await db.query(
      `SELECT count(compress_chunk(c, if_not_compressed => true)) AS n
         FROM show_chunks('telemetry') c`,
    );
    expect(Number(compressed.rows[0].n)).toBeGreaterThanOrEqual(90);
    await db.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('messages') c`);
    const after = await shipmentTrack(db, 'LONG', 5000);
    expect(after).toEqual(before);
    expect(after).toHaveLength(3 * 144);

    const plan = await explain(db, (r) => shipmentTrack(r, 'LONG', 5000), true);
    // The span is passed as constants: TimescaleDB plans only the chunks inside it (3 days of 90 here).
    const chunks = new Set(plan.match(/(?<!compress)_hyper_\d+_\d+_chunk/g));
    expect(chunks.size).toBeGreaterThanOrEqual(3);
    expect(chunks.size).toBeLessThanOrEqual(4);
    if (process.env.EXPLAIN_OUT) {
      const { appendFileSync } = await import('node:fs');
      appendFileSync(process.env.EXPLAIN_OUT, `\n## TimescaleDB, 90 compressed chunks: track\n${plan}\n`);
    }
  }, 180_000);

  it('looks a resend up among the recent chunks first, and over the compressed history only when not found', async () => {
    const now = Date.now();
    await db.query("INSERT INTO devices (id) VALUES ('trk-resend') ON CONFLICT DO NOTHING");
    await withTransaction(db, (c) =>
      insertMessages(
        c,
        Array.from({ length: 31 }, (_, i) => ({
          deviceId: 'trk-resend',
          seq: 100 - i, // seq 100 today, 70 thirty days ago
          payloadSha256: Buffer.alloc(32, i),
          kid: 'k',
          topic: 't',
          jws: `eyJ.${'x'.repeat(600)}.${i}`,
          recordCount: 1,
          receivedAt: now - i * DAY,
        })),
      ),
    );
    await db.query(
      `SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('messages', older_than => INTERVAL '8 days') c`,
    );
    const recent = [{ deviceId: 'trk-resend', seq: 99 }];
    const plan = await explain(db, (r) => storedHashes(r as never, recent), true);
    // One statement, on the last 8 days' chunks only (of 31 days of chunks, 23 compressed).
    const chunks = new Set(plan.match(/(?<!compress)_hyper_\d+_\d+_chunk/g));
    expect(chunks.size).toBeGreaterThanOrEqual(1);
    expect(chunks.size).toBeLessThanOrEqual(9);
    const c = await db.connect();
    try {
      expect(await storedHashes(c, recent)).toEqual(new Map([['trk-resend\u000099', Buffer.alloc(32, 1)]]));
      // Thirty days old, compressed: found by the second lookup.
      expect(await storedHashes(c, [{ deviceId: 'trk-resend', seq: 70 }])).toEqual(
        new Map([['trk-resend\u000070', Buffer.alloc(32, 30)]]),
      );
    } finally {
      c.release();
    }
  }, 180_000);
});
