// Alert delivery end to end with real parts: chipwatch (embedded dispatcher) on a real PostgreSQL and aedes, a
// webhook receiver on node:http that verifies signatures, an in-process SMTP server, an MQTT subscriber, and an SSE
// client reading /v1/alerts/stream with fetch(). Alerts come from the production write path (applyAlertEvents,
// the lifecycle API, and a tracker's signed telemetry), so the outbox rows are the ones ingest writes.

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { applyAlertEvents } from '../../src/alerts/apply.ts';
import { withTransaction } from '../../src/db/pool.ts';
import { verifyWebhook } from '../../src/delivery/signature.ts';
import type { AlertType } from '../../src/domain/alerts.ts';
import { serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import {
  eventually,
  registerDevice,
  startTestChipwatch,
  type TestChipwatch,
  until,
} from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let smtp: SMTPServer;
const mails: { from: string; to: string[]; raw: string }[] = [];
const HOUR = 3_600_000;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        mails.push({
          from: from ? from.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    DISPATCH_POLL_MS: '50',
    DELIVERY_MAX_ATTEMPTS: '5',
    DELIVERY_BACKOFF_BASE_MS: '20',
    DELIVERY_BACKOFF_MAX_MS: '100',
    WEBHOOK_TIMEOUT_MS: '2000',
    // The test receivers listen on loopback: allowed explicitly, as an operator would for an intranet receiver.
    WEBHOOK_ALLOW_PRIVATE: '127.0.0.1/32',
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    SMTP_FROM: 'chipwatch <alerts@chipwatch.test>',
  });
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
});

// ---- helpers ------------------------------------------------------------------------------------------------------

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  verdict: ReturnType<typeof verifyWebhook>;
}

/** A webhook receiver: verifies every request, answers with `respond(n)` for the n-th request (1-based). */
async function receiver(secret: () => string, respond: (n: number) => number = () => 204) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verdict = verifyWebhook({ header: (n) => req.headers[n.toLowerCase()], body }, secret());
      got.push({ headers: req.headers, body, verdict });
      res.statusCode = verdict.ok ? respond(got.length) : 401;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let shipmentCount = 0;
/** A registered device with a shipment (a short road route), so alerts can name a shipment and a customer. */
async function shipment(customer?: string) {
  const n = ++shipmentCount;
  const suffix = randomBytes(3).toString('hex');
  const deviceId = `trk-dlv-${n}-${suffix}`;
  const id = `shp-dlv-${n}-${suffix}`;
  const key = generateDeviceKey();
  expect(
    (await cw.api('POST', '/v1/devices', { body: { id: deviceId, publicKeyJwk: key.publicJwk } })).status,
  ).toBe(201);
  const res = await cw.api('POST', '/v1/shipments', {
    role: 'logistics',
    body: {
      id,
      deviceId,
      mode: 'road',
      ...(customer ? { customer } : {}),
      origin: { name: 'Eindhoven', lat: 51.44, lon: 5.47 },
      destination: { name: 'Amsterdam', lat: 52.37, lon: 4.9 },
      route: {
        type: 'LineString',
        coordinates: [
          [5.47, 51.44],
          [4.9, 52.37],
        ],
      },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id, deviceId };
}

/** Raises (or updates) an alert through the same function ingest uses, in one transaction. */
async function raise(s: { id: string; deviceId: string }, type: AlertType, evidenceAtMs = Date.now()) {
  const changes = await withTransaction(cw.pool, (c) =>
    applyAlertEvents(c, [
      {
        type,
        action: 'raise',
        at: evidenceAtMs,
        subject: s.id,
        shipmentId: s.id,
        deviceId: s.deviceId,
        details: { test: true },
      },
    ]),
  );
  return changes[0]!;
}

async function createChannel(body: Record<string, unknown>) {
  const res = await cw.api('POST', '/v1/channels', { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret?: string };
}

async function metric(name: string, labels: string): Promise<number> {
  const res = await fetch(`${cw.httpUrl}/metrics`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

// ---- channels API -------------------------------------------------------------------------------------------------

describe('channels API', () => {
  it('creates a webhook channel, shows its generated secret once, and never again', async () => {
    const created = await createChannel({
      type: 'webhook',
      url: 'http://127.0.0.1:9/x',
      minSeverity: 'critical',
    });
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const got = await cw.api('GET', `/v1/channels/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: created.id,
      type: 'webhook',
      secretSet: true,
      minSeverity: 'critical',
    });
    expect(JSON.stringify(got.body)).not.toContain(created.secret);
    const list = await cw.api('GET', '/v1/channels?type=webhook');
    expect(list.body.items.map((c: { id: string }) => c.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(list.body.items.every((c: Record<string, unknown>) => !('secret' in c))).toBe(true);
    // A secret the admin chose is not echoed either.
    const chosen = await createChannel({
      type: 'webhook',
      url: 'http://127.0.0.1:9/y',
      secret: 'chosen-secret-0123456789',
    });
    expect(chosen.secret).toBeUndefined();
    await cw.api('DELETE', `/v1/channels/${created.id}`);
    await cw.api('DELETE', `/v1/channels/${chosen.id}`);
  });

  it('validates channels by type and refuses non-admins', async () => {
    expect((await cw.api('POST', '/v1/channels', { body: { type: 'email', to: [] } })).status).toBe(422);
    expect(
      (await cw.api('POST', '/v1/channels', { body: { type: 'email', to: ['not-an-address'] } })).status,
    ).toBe(422);
    expect(
      (await cw.api('POST', '/v1/channels', { body: { type: 'webhook', url: 'ftp://example.com/x' } }))
        .status,
    ).toBe(422);
    expect(
      (
        await cw.api('POST', '/v1/channels', {
          body: { type: 'email', to: ['a@example.com'], secret: 'x'.repeat(20) },
        })
      ).status,
    ).toBe(422);
    expect(
      (await cw.api('POST', '/v1/channels', { body: { type: 'mqtt', types: ['NOT_A_TYPE'] } })).status,
    ).toBe(422);
    expect((await cw.api('GET', '/v1/channels', { role: 'compliance' })).status).toBe(403);
    expect((await cw.api('POST', '/v1/channels', { role: 'logistics', body: { type: 'mqtt' } })).status).toBe(
      403,
    );
    expect((await cw.api('GET', '/v1/deliveries?status=dead', { role: 'compliance' })).status).toBe(403);
    expect((await cw.api('GET', '/v1/channels/nope')).status).toBe(404);
  });

  it('PATCH changes filters and disables; a field of another channel type is refused', async () => {
    const ch = await createChannel({ type: 'mqtt' });
    const patched = await cw.api('PATCH', `/v1/channels/${ch.id}`, {
      body: { enabled: false, types: ['TAMPER'], renotifyAfterS: 600 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      enabled: false,
      types: ['TAMPER'],
      renotifyAfterS: 600,
      topic: null,
    });
    expect((await cw.api('PATCH', `/v1/channels/${ch.id}`, { body: { url: 'http://x.test/' } })).status).toBe(
      422,
    );
    expect((await cw.api('DELETE', `/v1/channels/${ch.id}`)).status).toBe(204);
    expect((await cw.api('GET', `/v1/channels/${ch.id}`)).status).toBe(404);
    expect((await cw.api('DELETE', `/v1/channels/${ch.id}`)).status).toBe(404);
  });
});

// ---- webhook ------------------------------------------------------------------------------------------------------

describe('webhook delivery', () => {
  it('retries a receiver that fails three times, then delivers once: same delivery id, valid signature every time', async () => {
    let secret = '';
    const hook = await receiver(
      () => secret,
      (n) => (n <= 3 ? 503 : 200),
    );
    const s = await shipment();
    const ch = await createChannel({ type: 'webhook', url: hook.url, shipmentIds: [s.id] });
    secret = ch.secret!;
    const retriedBefore = await metric('chipwatch_deliveries_retried_total', 'channel_type="webhook"');
    const change = await raise(s, 'TAMPER');
    expect(change.action).toBe('opened');

    await until('four requests at the receiver', async () => hook.got.length >= 4);
    // Nothing more arrives once it was accepted: once chipwatch has recorded it delivered, no retry is left.
    await until('the delivery recorded as delivered', async () =>
      (
        await cw.sql(
          `SELECT 1 FROM deliveries d JOIN alert_events e ON e.id = d.event_id
            WHERE e.alert_id = $1 AND d.channel_id = $2 AND d.status = 'delivered'`,
          [change.id, ch.id],
        )
      ).at(0),
    );
    expect(hook.got).toHaveLength(4);
    expect(hook.got.every((g) => g.verdict.ok)).toBe(true);
    const ids = new Set(hook.got.map((g) => g.headers['x-chipwatch-delivery']));
    expect(ids.size).toBe(1);
    const [deliveryId] = [...ids] as string[];
    expect(hook.got[0]!.headers['x-chipwatch-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(Number(hook.got[0]!.headers['x-chipwatch-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    const body = JSON.parse(hook.got[3]!.body);
    expect(body).toMatchObject({
      id: String(change.id),
      type: 'TAMPER',
      severity: 'critical',
      status: 'open',
      shipmentId: s.id,
      event: { action: 'opened', late: false, deliveryId },
    });

    const delivery = await eventually(async () => {
      const d = (await cw.api('GET', `/v1/deliveries/${deliveryId}`)).body;
      return d.status === 'delivered' ? d : undefined;
    });
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 4,
      channelId: ch.id,
      alertId: String(change.id),
    });
    expect(await metric('chipwatch_deliveries_retried_total', 'channel_type="webhook"')).toBe(
      retriedBefore + 3,
    );
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it("a receiver that hangs holds only its own deliveries, not other channels' next alerts", async () => {
    // Receiver A never answers (until chipwatch's timeout cuts the request); B answers at once.
    const open = new Set<http.ServerResponse>();
    const slow = http.createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      req.resume();
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const fast = await receiver(() => 'fast-secret-0123456789');
    const s = await shipment();
    const a = await createChannel({
      type: 'webhook',
      url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`,
      secret: 'slow-secret-0123456789',
      shipmentIds: [s.id],
    });
    const b = await createChannel({
      type: 'webhook',
      url: fast.url,
      secret: 'fast-secret-0123456789',
      shipmentIds: [s.id],
    });
    await raise(s, 'TAMPER');
    await until('A holding a request and B served', async () => open.size >= 1 && fast.got.length >= 1);
    const held = [...open][0]!;
    // A second alert while A's first request still hangs: B gets it without waiting for A's timeout.
    await raise({ ...s, id: s.id }, 'SPOOFING_SUSPECTED');
    await until('the second alert at B', async () =>
      fast.got.some((g) => JSON.parse(g.body).type === 'SPOOFING_SUSPECTED'),
    );
    expect(open.has(held)).toBe(true);
    expect(held.writableEnded).toBe(false);
    for (const ch of [a, b]) await cw.api('DELETE', `/v1/channels/${ch.id}`);
    for (const res of open) res.destroy();
    await new Promise<void>((r) => slow.close(() => r()));
    await fast.close();
  });

  it('parks a delivery as dead after the attempt limit — visible in the API and the metrics — and retries it by hand', async () => {
    let healthy = false;
    let secret = '';
    const hook = await receiver(
      () => secret,
      () => (healthy ? 200 : 500),
    );
    const s = await shipment();
    const ch = await createChannel({ type: 'webhook', url: hook.url, shipmentIds: [s.id] });
    secret = ch.secret!;
    const deadBefore = await metric('chipwatch_deliveries_dead_total', 'channel_type="webhook"');
    await raise(s, 'SPOOFING_SUSPECTED');

    const dead = await eventually(async () => {
      const res = await cw.api('GET', `/v1/deliveries?status=dead&channelId=${ch.id}`);
      return res.body.items.length === 1 ? res.body.items[0] : undefined;
    });
    expect(dead).toMatchObject({
      channelId: ch.id,
      channelType: 'webhook',
      status: 'dead',
      attempts: 5,
      lastStatus: 500,
      alertType: 'SPOOFING_SUSPECTED',
      action: 'opened',
    });
    expect(dead.lastError).toMatch(/gave up after 5 attempts: HTTP 500/);
    expect(hook.got).toHaveLength(5);
    expect((await cw.api('GET', `/v1/channels/${ch.id}/deliveries?status=dead`)).body.items[0].id).toBe(
      dead.id,
    );
    await until(
      'chipwatch_deliveries_dead_total to count it',
      async () => (await metric('chipwatch_deliveries_dead_total', 'channel_type="webhook"')) > deadBefore,
    );
    expect(await metric('chipwatch_deliveries_dead_total', 'channel_type="webhook"')).toBe(deadBefore + 1);
    await until(
      'chipwatch_outbox_backlog{stage="dead"} to count it',
      async () => (await metric('chipwatch_outbox_backlog', 'stage="dead"')) >= 1,
    );

    // A delivered or pending one cannot be "retried"; a dead one can, keeping its id.
    healthy = true;
    const retried = await cw.api('POST', `/v1/deliveries/${dead.id}/retry`);
    expect(retried.status).toBe(200);
    await until(
      'the retried delivery delivered',
      async () => (await cw.api('GET', `/v1/deliveries/${dead.id}`)).body.status === 'delivered',
    );
    expect(hook.got.at(-1)!.headers['x-chipwatch-delivery']).toBe(dead.id);
    // Attempt numbers are never reused (a late result of attempt 5 cannot overwrite attempt 6).
    expect((await cw.api('GET', `/v1/deliveries/${dead.id}`)).body.attempts).toBe(6);
    expect((await cw.api('POST', `/v1/deliveries/${dead.id}/retry`)).status).toBe(409);
    expect((await cw.api('POST', '/v1/deliveries/00000000-0000-4000-8000-000000000000/retry')).status).toBe(
      404,
    );
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it('an alert opened and resolved in one batch notifies "opened" as open, then "auto_resolved" as resolved', async () => {
    const s = await shipment();
    const ev = { type: 'ROUTE_DEVIATION' as const, subject: s.id, shipmentId: s.id, deviceId: s.deviceId };
    const changes = await withTransaction(cw.pool, (c) =>
      applyAlertEvents(c, [
        { ...ev, action: 'raise', at: Date.now() - 1000, details: {} },
        { ...ev, action: 'resolve', at: Date.now(), details: { reason: 'back inside' } },
      ]),
    );
    const rows = await cw.sql(
      "SELECT action, alert->>'status' AS status FROM alert_events WHERE alert_id = $1 ORDER BY id",
      [changes[0]!.id],
    );
    expect(rows).toEqual([
      { action: 'opened', status: 'open' },
      { action: 'auto_resolved', status: 'resolved' },
    ]);
  });

  it('prunes delivered notifications and their events past retention; the alert and its audit trail stay', async () => {
    let secret = '';
    const hook = await receiver(() => secret);
    const s = await shipment();
    const ch = await createChannel({ type: 'webhook', url: hook.url, shipmentIds: [s.id] });
    secret = ch.secret!;
    const change = await raise(s, 'TAMPER');
    const delivered = await until('the TAMPER delivery delivered', async () => {
      const rows = await cw.sql(
        `SELECT d.id, d.event_id FROM deliveries d JOIN alert_events e ON e.id = d.event_id
          WHERE e.alert_id = $1 AND d.status = 'delivered'`,
        [change.id],
      );
      return rows[0];
    });
    // Age them past the retention, plus a dead delivery of another event just as old.
    await cw.sql("UPDATE deliveries SET delivered_at = now() - interval '31 days' WHERE id = $1", [
      delivered.id,
    ]);
    await cw.sql("UPDATE alert_events SET created_at = now() - interval '31 days' WHERE id = $1", [
      delivered.event_id,
    ]);
    const { pruneOutbox } = await import('../../src/delivery/outbox.ts');
    expect(await pruneOutbox(cw.pool, 30)).toMatchObject({ deliveries: 1, events: 1 });
    expect(await cw.sql('SELECT 1 FROM deliveries WHERE id = $1', [delivered.id])).toEqual([]);
    expect(await cw.sql('SELECT 1 FROM alert_events WHERE id = $1', [delivered.event_id])).toEqual([]);
    // The alert and its audit trail are evidence: untouched.
    expect((await cw.api('GET', `/v1/alerts/${change.id}`, { role: 'compliance' })).body.audit.length).toBe(
      1,
    );
    expect(await pruneOutbox(cw.pool, 30)).toEqual({ deliveries: 0, events: 0 });
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it('pages through every delivery of one routing pass, and refuses a cursor it did not issue', async () => {
    const hook = await receiver(
      () => 'unused',
      () => 410,
    );
    const chans = await Promise.all(
      [1, 2, 3].map(() =>
        createChannel({ type: 'webhook', url: hook.url, secret: 'page-secret-0123456789' }),
      ),
    );
    const s = await shipment();
    // One transaction: 20 alerts × 3 channels, routed in one pass, so the deliveries share their created_at.
    await withTransaction(cw.pool, (c) =>
      applyAlertEvents(
        c,
        Array.from({ length: 20 }, (_, i) => ({
          type: 'TAMPER' as const,
          action: 'raise' as const,
          at: Date.now(),
          subject: `${s.id}-page-${i}`,
          shipmentId: s.id,
          deviceId: s.deviceId,
          details: { i },
        })),
      ),
    );
    const ids = new Set(chans.map((ch) => ch.id));
    const mine = async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: any } = await cw.api(
          'GET',
          `/v1/deliveries?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        seen.push(...res.body.items.filter((d: any) => ids.has(d.channelId)).map((d: any) => d.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      return seen;
    };
    const seen = await eventually(async () => {
      const got = await mine();
      return got.length >= 60 ? got : undefined;
    });
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    const forged = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');
    expect((await cw.api('GET', `/v1/deliveries?cursor=${forged}`)).status).toBe(400);
    for (const ch of chans) await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it('a 4xx answer (not 408/429) is dead at once, without retries', async () => {
    let secret = '';
    const hook = await receiver(
      () => secret,
      () => 410,
    );
    const s = await shipment();
    const ch = await createChannel({ type: 'webhook', url: hook.url, shipmentIds: [s.id] });
    secret = ch.secret!;
    await raise(s, 'TAMPER');
    const dead = await eventually(async () => {
      const res = await cw.api('GET', `/v1/channels/${ch.id}/deliveries?status=dead`);
      return res.body.items[0];
    });
    expect(dead).toMatchObject({ attempts: 1, lastStatus: 410, lastError: 'HTTP 410' });
    expect(hook.got).toHaveLength(1);
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it('routes by customer and severity, keeps updates quiet, and always sends acknowledge and resolve', async () => {
    let secret = '';
    const hook = await receiver(() => secret);
    const mine = await shipment('acme');
    const other = await shipment('globex');
    const ch = await createChannel({
      type: 'webhook',
      url: hook.url,
      customers: ['acme'],
      minSeverity: 'critical',
      renotifyAfterS: 3600,
    });
    secret = ch.secret!;

    const opened = await raise(mine, 'TAMPER');
    await raise(other, 'TAMPER'); // another customer's
    await raise(mine, 'ROUTE_DEVIATION'); // a warning, below minSeverity
    await until('the opened TAMPER at the receiver', async () => hook.got.length >= 1);
    const updated = await raise(mine, 'TAMPER'); // more evidence within the hour: quiet
    expect(updated).toMatchObject({ id: opened.id, action: 'updated' });
    expect((await cw.api('POST', `/v1/alerts/${opened.id}/ack`, { role: 'compliance' })).status).toBe(200);
    expect(
      (
        await cw.api('POST', `/v1/alerts/${opened.id}/resolve`, {
          role: 'compliance',
          body: { note: 'seal checked' },
        })
      ).status,
    ).toBe(200);
    await until('opened, acknowledged and resolved at the receiver', async () => hook.got.length >= 3);
    // Every delivery this channel got is settled: whatever it was sent is at the receiver (nothing more on its way).
    await until(
      'no delivery of this channel pending',
      async () =>
        (await cw.sql("SELECT 1 FROM deliveries WHERE channel_id = $1 AND status = 'pending'", [ch.id]))
          .length === 0,
    );
    // Deliveries of one batch go out concurrently: order by the event id, not by arrival.
    const events = hook.got.map((g) => JSON.parse(g.body)).sort((x, y) => x.event.id - y.event.id);
    expect(events.map((e) => [e.id, e.shipmentId, e.event.action])).toEqual([
      [String(opened.id), mine.id, 'opened'],
      [String(opened.id), mine.id, 'acknowledged'],
      [String(opened.id), mine.id, 'resolved'],
    ]);
    expect(events[2]).toMatchObject({
      status: 'resolved',
      event: { actor: 'test-compliance', note: 'seal checked' },
    });
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });

  it('marks evidence that was already old when it arrived as late', async () => {
    let secret = '';
    const hook = await receiver(() => secret);
    const s = await shipment();
    const ch = await createChannel({ type: 'webhook', url: hook.url, shipmentIds: [s.id] });
    secret = ch.secret!;
    await raise(s, 'UNPLANNED_STOP', Date.now() - 48 * HOUR); // a 2-day offline buffer
    await until('the alert at the receiver', async () => hook.got.length >= 1);
    expect(JSON.parse(hook.got[0]!.body).event).toMatchObject({ action: 'opened', late: true });
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
    await hook.close();
  });
});

// ---- e-mail -------------------------------------------------------------------------------------------------------

/** Just enough MIME for the test: headers (unfolded, RFC 2047 decoded) and the parts of a multipart body. */
function parseMime(raw: string): {
  headers: Record<string, string>;
  parts: { type: string; body: string }[];
} {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head!.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const boundary = headers['content-type']?.match(/boundary="?([^";]+)"?/)?.[1];
  if (!boundary)
    return { headers, parts: [{ type: headers['content-type'] ?? '', body: decodeBody(headers, body) }] };
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((p) => {
      const sub = parseMime(p.replace(/^\r?\n/, ''));
      return { type: sub.headers['content-type'] ?? '', body: sub.parts[0]!.body };
    });
  return { headers, parts };
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const enc = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function decodeWords(v: string): string {
  return v.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeBody({ 'content-transfer-encoding': 'quoted-printable' }, text.replace(/_/g, ' ')),
  );
}

describe('e-mail delivery', () => {
  it('sends plain text and HTML to every recipient over SMTP, late evidence marked in the subject', async () => {
    const s = await shipment();
    const to = ['compliance@example.com', 'oncall@example.com'];
    const ch = await createChannel({ type: 'email', to, shipmentIds: [s.id] });
    const fresh = await raise(s, 'RESTRICTED_ZONE_ENTERED');
    const mail = await until('the mail about the shipment', async () =>
      mails.find((m) => m.raw.includes(s.id)),
    );
    expect(mail).toBeDefined();
    expect(mail!.to.sort()).toEqual([...to].sort());
    expect(mail!.from).toBe('alerts@chipwatch.test');
    const parsed = parseMime(mail!.raw);
    expect(parsed.headers.subject).toBe(
      `[chipwatch] CRITICAL RESTRICTED_ZONE_ENTERED opened: shipment ${s.id}`,
    );
    expect(parsed.headers.to).toContain('compliance@example.com');
    expect(parsed.headers['content-type']).toMatch(/^multipart\/alternative/);
    const text = parsed.parts.find((p) => p.type.startsWith('text/plain'))!;
    const html = parsed.parts.find((p) => p.type.startsWith('text/html'))!;
    expect(text.body).toContain(`Alert: RESTRICTED_ZONE_ENTERED (#${fresh.id})`);
    expect(text.body).toContain(`Shipment: ${s.id}`);
    expect(html.body).toContain('<table>');
    expect(html.body).toContain(`RESTRICTED_ZONE_ENTERED (#${fresh.id})`);
    // The mail can land before the dispatcher records the outcome.
    const delivery = await eventually(async () => {
      const d = (await cw.api('GET', `/v1/channels/${ch.id}/deliveries`)).body.items[0];
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(delivery).toBeDefined();
    expect(parsed.headers['message-id']).toBe(`<${delivery.id}@chipwatch>`);

    const late = await shipment();
    await cw.api('PATCH', `/v1/channels/${ch.id}`, { body: { shipmentIds: [late.id] } });
    await raise(late, 'TAMPER', Date.now() - 30 * HOUR);
    const lateMail = await until('the mail about the late alert', async () =>
      mails.find((m) => m.raw.includes(late.id)),
    );
    expect(parseMime(lateMail!.raw).headers.subject).toBe(
      `[late] [chipwatch] CRITICAL TAMPER opened: shipment ${late.id}`,
    );
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
  });
});

// ---- MQTT ---------------------------------------------------------------------------------------------------------

describe('MQTT delivery', () => {
  it('publishes at QoS 1 on chipwatch/v1/alerts/{shipmentId}, and _device/{id} for a tracker on no shipment', async () => {
    // An alert consumer subscribes with chipwatch's service credentials (trackers may read only their own acks).
    const sub = await mqtt.connectAsync(broker.url, {
      clientId: `sub-${randomBytes(3).toString('hex')}`,
      ...serviceOptions(broker),
    });
    const got: { topic: string; qos: number; payload: Record<string, unknown> }[] = [];
    sub.on('message', (topic, payload, packet) =>
      got.push({ topic, qos: packet.qos, payload: JSON.parse(String(payload)) }),
    );
    await sub.subscribeAsync('chipwatch/v1/alerts/#', { qos: 1 });
    const ch = await createChannel({ type: 'mqtt', types: ['TAMPER', 'RESTRICTED_ZONE_ENTERED'] });

    const s = await shipment();
    const alert = await raise(s, 'TAMPER');
    const onShipment = await eventually(async () =>
      got.find((g) => g.topic === `chipwatch/v1/alerts/${s.id}`),
    );
    expect(onShipment).toMatchObject({
      qos: 1,
      payload: { id: String(alert.id), type: 'TAMPER', event: { action: 'opened' } },
    });

    // The whole path: a tracker bound to no shipment reports a fix in Moscow → ingest → outbox → MQTT.
    const deviceId = `trk-dlv-ru-${randomBytes(3).toString('hex')}`;
    const { key, mqttPassword } = await registerDevice(cw, deviceId);
    const tracker = new Tracker({ deviceId, key, mqttUrl: broker.url, ackKey: cw.ackKey, mqttPassword });
    await tracker.waitConnected();
    tracker.send([{ ts: Date.now() - 60_000, lat: 55.75, lon: 37.62 }]);
    expect(await tracker.waitAllAcked(30_000)).toBe(true);
    const unbound = await eventually(async () =>
      got.find((g) => g.topic === `chipwatch/v1/alerts/_device/${deviceId}`),
    );
    expect(unbound?.payload).toMatchObject({ type: 'RESTRICTED_ZONE_ENTERED', deviceId, shipmentId: null });
    await tracker.close();
    await sub.endAsync();
    await cw.api('DELETE', `/v1/channels/${ch.id}`);
  });
});

// ---- SSE ----------------------------------------------------------------------------------------------------------

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads /v1/alerts/stream with fetch() and an Authorization header, as the dashboard does. */
async function openStream(headers: Record<string, string> = {}, query = '') {
  const controller = new AbortController();
  const res = await fetch(`${cw.httpUrl}/v1/alerts/stream${query}`, {
    headers: { authorization: `Bearer ${await cw.token('compliance')}`, ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let comments = 0;
  const pump = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev: SseEvent = { data: '' };
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.event = line.slice(7);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.event) events.push(ev);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    res,
    events,
    comments: () => comments,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}

describe('SSE stream', () => {
  it('refuses logistics and a Last-Event-ID that is not an event id', async () => {
    const logistics = await fetch(`${cw.httpUrl}/v1/alerts/stream`, {
      headers: { authorization: `Bearer ${await cw.token('logistics')}` },
    });
    expect(logistics.status).toBe(403);
    await logistics.body?.cancel();
    const bad = await fetch(`${cw.httpUrl}/v1/alerts/stream`, {
      headers: { authorization: `Bearer ${await cw.token('compliance')}`, 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
    expect((await fetch(`${cw.httpUrl}/v1/alerts/stream`)).status).toBe(401);
  });

  it('a client that disconnects and resumes with Last-Event-ID misses nothing and gets nothing twice', async () => {
    const s = await shipment();
    const first = await openStream();
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await until('the stream open (its first comment)', async () => first.comments() >= 1);
    const a = await raise(s, 'TAMPER');
    const seen = (await until('the alert on the stream', async () =>
      first.events.find((e) => JSON.parse(e.data).id === String(a.id)),
    ))!;
    expect(seen.event).toBe('alert');
    expect(JSON.parse(seen.data)).toMatchObject({ id: String(a.id), event: { action: 'opened' } });
    await first.close();

    // Meanwhile: new alerts, an update, an acknowledgement, and a tracker's alert through ingest.
    const b = await raise(s, 'ROUTE_DEVIATION');
    const c = await raise(s, 'UNPLANNED_STOP');
    await raise(s, 'ROUTE_DEVIATION');
    expect((await cw.api('POST', `/v1/alerts/${a.id}/ack`, { role: 'compliance' })).status).toBe(200);
    const missedSeqs = async () =>
      (
        await cw.sql<{ seq: number }>('SELECT seq FROM alert_events WHERE seq > $1 ORDER BY seq', [
          Number(seen.id),
        ])
      ).map((r) => String(r.seq));
    await until('four events after the last one seen', async () => (await missedSeqs()).length >= 4);

    const resumed = await openStream({ 'last-event-id': seen.id! });
    await until('the four missed events replayed', async () => resumed.events.length >= 4);
    const d = await raise(s, 'GAP_WITH_DISPLACEMENT'); // live again after the replay
    await until('the live alert on the resumed stream', async () =>
      resumed.events.some((e) => JSON.parse(e.data).id === String(d.id)),
    );
    // Everything written after the last event seen has reached the stream (a duplicate would show as extra).
    await until(
      'every event since the last one seen on the resumed stream',
      async () => resumed.events.length >= (await missedSeqs()).length,
    );
    await resumed.close();

    const ids = resumed.events.map((e) => e.id!);
    expect(ids).toEqual(await missedSeqs()); // every event after the last one seen, in order, once
    expect(new Set(ids).size).toBe(ids.length);
    expect(Number(ids[0])).toBeGreaterThan(Number(seen.id));
    const actions = resumed.events.map((e) => {
      const p = JSON.parse(e.data);
      return [p.id, p.event.action];
    });
    expect(actions.slice(0, 4)).toEqual([
      [String(b.id), 'opened'],
      [String(c.id), 'opened'],
      [String(b.id), 'updated'],
      [String(a.id), 'acknowledged'],
    ]);
    expect(actions.at(-1)).toEqual([String(d.id), 'opened']);

    // ?lastEventId= works the same for clients that cannot set the header.
    const byQuery = await openStream({}, `?lastEventId=${seen.id}`);
    await until('the replay by ?lastEventId=', async () => byQuery.events.length >= ids.length);
    await byQuery.close();
    expect(byQuery.events.map((e) => e.id)).toEqual(ids);
  });
});
