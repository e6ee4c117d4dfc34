// Two dispatchers — each with its own pool, as two processes would be — racing over 1,000 outbox rows on one real
// PostgreSQL: every delivery reaches the receiver exactly once, both dispatchers take part, and the events are
// numbered once each, without gaps.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { applyAlertEvents } from '../../src/alerts/apply.ts';
import { insertChannel } from '../../src/db/channels.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool, withTransaction } from '../../src/db/pool.ts';
import { type Dispatcher, startDispatcher } from '../../src/delivery/dispatcher.ts';
import { verifyWebhook } from '../../src/delivery/signature.ts';
import { parseCidr } from '../../src/domain/addresses.ts';
import type { SubjectEvent } from '../../src/domain/alerts.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { eventually } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const ROWS = 1000;
const SECRET = 'race-secret-0123456789abcdef';
let url: string;
const pools: Pool[] = [];
const dispatchers: Dispatcher[] = [];
let server: http.Server;
const received = new Map<string, number>();
let badSignatures = 0;

beforeAll(async () => {
  url = await createTestDatabase(inject('pgAdminUrl'));
  await migrate(url);
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const v = verifyWebhook({ header: (n) => req.headers[n.toLowerCase()], body }, SECRET);
      if (!v.ok || !v.deliveryId) {
        badSignatures++;
        res.statusCode = 401;
      } else {
        received.set(v.deliveryId, (received.get(v.deliveryId) ?? 0) + 1);
        res.statusCode = 204;
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  for (const d of dispatchers) await d.stop();
  for (const p of pools) await p.end();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

it(`two dispatchers racing over ${ROWS} outbox rows deliver each exactly once`, {
  timeout: 120_000,
}, async () => {
  const admin = createPool(url, 2);
  pools.push(admin);
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await insertChannel(
    admin,
    {
      id: 'race',
      type: 'webhook',
      url: hookUrl,
      secret: SECRET,
      recipients: null,
      topic: null,
      minSeverity: 'info',
      types: null,
      shipmentIds: null,
      customers: null,
      renotifyAfterS: 3600,
      enabled: true,
    },
    'test',
  );
  // Both running before the rows exist, so both wake on the same NOTIFY and race for the same rows.
  for (let i = 0; i < 2; i++) {
    const pool = createPool(url, 4);
    pools.push(pool);
    dispatchers.push(
      startDispatcher({
        pool,
        databaseUrl: url,
        log: createLogger('silent'),
        metrics: createMetrics(),
        settings: {
          pollMs: 50,
          batch: 20,
          retry: { maxAttempts: 5, baseMs: 20, maxMs: 100 },
          webhookTimeoutMs: 5000,
          // The receiver is on loopback: allowed explicitly, as WEBHOOK_ALLOW_PRIVATE would.
          webhookAllow: [parseCidr('127.0.0.1/32')!],
          smtpUrl: undefined,
          smtpFrom: 'chipwatch <chipwatch@localhost>',
          lateAfterS: 3600,
          retentionDays: 30,
          mqttUrl: 'mqtt://127.0.0.1:1',
          topicPrefix: 'chipwatch/v1',
        },
      }),
    );
  }

  const started = Date.now();
  // 1,000 alerts on 1,000 unbound trackers, in 10 transactions as ingest batches would write them.
  for (let b = 0; b < 10; b++) {
    const events: SubjectEvent[] = Array.from({ length: ROWS / 10 }, (_, i) => ({
      type: 'TAMPER',
      action: 'raise',
      at: Date.now(),
      subject: `device:race-${b}-${i}`,
      shipmentId: null,
      deviceId: `race-${b}-${i}`,
      details: {},
    }));
    await withTransaction(admin, (c) => applyAlertEvents(c, events));
  }

  const delivered = async () =>
    Number((await admin.query("SELECT count(*) AS n FROM deliveries WHERE status = 'delivered'")).rows[0].n);
  await eventually(async () => (await delivered()) === ROWS, 90_000, 100);
  const elapsedMs = Date.now() - started;
  // Give a duplicate, if any, time to show up.
  await new Promise((r) => setTimeout(r, 500));

  expect(badSignatures).toBe(0);
  expect(received.size).toBe(ROWS);
  expect([...received.values()].every((n) => n === 1)).toBe(true);
  const rows = await admin.query(
    `SELECT d.id, d.attempts, d.claimed_by, d.status FROM deliveries d ORDER BY d.id`,
  );
  expect(rows.rows).toHaveLength(ROWS);
  expect(rows.rows.every((r) => r.status === 'delivered' && r.attempts === 1 && received.has(r.id))).toBe(
    true,
  );
  const byWorker = new Map<string, number>();
  for (const r of rows.rows) byWorker.set(r.claimed_by, (byWorker.get(r.claimed_by) ?? 0) + 1);
  expect([...byWorker.keys()].sort()).toEqual(dispatchers.map((d) => d.workerId).sort());

  // Numbered once each, 1…1000, by whichever dispatcher held the router lock.
  const seqs = await admin.query('SELECT seq FROM alert_events ORDER BY seq');
  expect(seqs.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  console.log(
    `[delivery-race] ${ROWS} deliveries in ${elapsedMs} ms by two dispatchers (${[...byWorker.values()].join(' + ')})`,
  );
});
