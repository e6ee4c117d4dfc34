// Bad input is a 400 or 422 naming its place, never a 500: NUL and control characters anywhere a string reaches the
// database (path ids, query filters, body fields), forged cursors, dates out of range. A stream resumed past the
// newest event restarts there and says so; live streams are capped per token; webhook channels may not target
// loopback, private or link-local addresses. Real PostgreSQL, real broker.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { applyAlertEvents } from '../../src/alerts/apply.ts';
import { withTransaction } from '../../src/db/pool.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { eventually, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    SSE_MAX_STREAMS_PER_TOKEN: '2',
  });
  const key = generateDeviceKey();
  expect(
    (await cw.api('POST', '/v1/devices', { body: { id: 'trk-hard', publicKeyJwk: key.publicJwk } })).status,
  ).toBe(201);
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('NUL and control characters', () => {
  it.each([
    ['a path id', '/v1/devices/trk%00hard', 'path parameter id contains NUL'],
    ['a path id (shipment)', '/v1/shipments/shp%00x', 'path parameter id contains NUL'],
    ['a chip serial', '/v1/chips/GPU%00-1', 'path parameter serial contains NUL'],
    ['a query filter', '/v1/shipments?customer=acme%00', 'query parameter customer contains NUL'],
    ['a rejection filter', '/v1/rejections?reason=REPLAY%00', 'query parameter reason contains NUL'],
    ['a control character', '/v1/shipments?customer=ac%1Bme', 'query parameter customer contains control'],
  ])('%s is a 400 BAD_REQUEST naming it', async (_what, path, message) => {
    const res = await cw.api('GET', path);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    expect(res.body.error.message).toContain(message);
  });

  it('a NUL in a body field is a 422 VALIDATION_FAILED naming the field', async () => {
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-nul',
        deviceId: 'trk-hard',
        mode: 'road',
        reference: 'AWB\u0000176',
        origin: { name: 'Eindhoven', lat: 51.44, lon: 5.47 },
        destination: { name: 'Amster\u0000dam', lat: 52.37, lon: 4.9, radiusKm: 5 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'reference: contains NUL (U+0000) at index 3',
    });
  });

  it('a NUL in a channel filter or an object key is a 422, and nothing is stored', async () => {
    const filter = await cw.api('POST', '/v1/channels', {
      body: { type: 'mqtt', id: 'ch-nul', customers: ['acme\u0000'] },
    });
    expect(filter.status).toBe(422);
    expect(filter.body.error.message).toBe('customers[0]: contains NUL (U+0000) at index 4');
    const key = await cw.api('POST', '/v1/channels', { body: { type: 'mqtt', 'x\u0000': 1 } });
    expect(key.status).toBe(422);
    expect(key.body.error.code).toBe('VALIDATION_FAILED');
    expect((await cw.api('GET', '/v1/channels/ch-nul')).status).toBe(404);
  });

  it('a zone ring with too few positions is a 422, not a 500', async () => {
    const res = await cw.api('POST', '/v1/zones', {
      body: { id: 'zone-short', tier: 'watch', geometry: { type: 'Polygon', coordinates: [[]] } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'geometry.coordinates.0: a linear ring has at least 4 positions',
    });
  });

  it('free text keeps its line breaks: a resolve note may span lines', async () => {
    const res = await cw.api('POST', '/v1/alerts/999999/resolve', {
      role: 'compliance',
      body: { note: 'checked with the carrier\nsee ticket 42' },
    });
    expect(res.status).toBe(404); // reached the lookup: the note passed the guard
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});

describe('cursors and dates', () => {
  it.each([
    ['a fractional alert id', '/v1/alerts', [1.5]],
    ['an alert id past 2^53', '/v1/alerts', [2 ** 60]],
    ['a negative page time', '/v1/devices/trk-hard/positions', [-9e15, 1, 0]],
    ['an index beyond int4', '/v1/devices/trk-hard/positions', [Date.now(), 1, 2 ** 40]],
    ['a time Date.parse takes but RFC 3339 does not', '/v1/rejections', ['1', 5]],
    ['a NUL in a string key', '/v1/channels', ['ch\u0000']],
    ['not JSON', '/v1/shipments', 'garbage'],
  ])('a forged cursor (%s) is a 400', async (_what, path, key) => {
    const c = typeof key === 'string' ? key : cursor(key);
    const res = await cw.api('GET', `${path}?cursor=${c}`);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toEqual({
      code: 'BAD_REQUEST',
      message: 'cursor is not one this API issued: pass nextCursor from the previous page',
    });
  });

  it.each([
    ['year 0', 'from=0000-01-01T00:00:00Z'],
    ['year 275760', 'from=%2B275760-09-13T00:00:00Z'],
    ['year −271821', 'to=-271821-04-20T00:00:00Z'],
    ['NaN', 'from=NaN'],
    ['a bare number', 'to=1'],
    ['31 February', 'from=2026-02-31T00:00:00Z'],
    ['an offset past 23:59', 'from=2026-01-01T00:00:00%2B24:00'],
  ])('a date out of range (%s) is a 400', async (_what, q) => {
    for (const path of ['/v1/devices/trk-hard/positions', '/v1/rejections']) {
      const res = await cw.api('GET', `${path}?${q}`);
      expect(res.status, `${path}?${q}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.message).toMatch(/RFC 3339 time between years 0001 and 9999/);
    }
  });

  it('the first and last years are fine', async () => {
    const from = '0001-01-01T00:00:00Z';
    const to = '0001-01-20T00:00:00Z';
    expect((await cw.api('GET', `/v1/rejections?from=${from}&to=${to}`)).status).toBe(200);
    expect((await cw.api('GET', '/v1/rejections?from=9999-12-30T00:00:00Z')).status).toBe(200);
  });
});

describe('/v1/alerts/stream', () => {
  it('resumed with an id above the newest, restarts from the newest, says so first, and delivers what follows', async () => {
    const newest = Number(
      (await cw.sql<{ seq: string }>('SELECT coalesce(max(seq), 0) AS seq FROM alert_events'))[0]!.seq,
    );
    const s = await openStream({ 'last-event-id': String(newest + 1000) });
    expect(s.res.status).toBe(200);
    await eventually(async () => s.events.length >= 1);
    expect(s.events[0]!.event).toBe('reset');
    expect(s.events[0]!.id).toBe(String(newest));
    expect(JSON.parse(s.events[0]!.data)).toMatchObject({ requested: newest + 1000, newest });
    const [change] = await withTransaction(cw.pool, (c) =>
      applyAlertEvents(c, [
        {
          type: 'TAMPER',
          action: 'raise',
          at: Date.now(),
          subject: 'trk-hard',
          shipmentId: null,
          deviceId: 'trk-hard',
          details: { test: true },
        },
      ]),
    );
    const got = await eventually(async () => s.events.find((e) => e.event === 'alert'));
    await s.close();
    expect(got, 'the alert raised after the reset reaches the client').toBeDefined();
    expect(JSON.parse(got!.data).id).toBe(String(change!.id));
  });

  it('refuses a third live stream of one token subject with 429, and takes it once one closes', async () => {
    const a = await openStream();
    const b = await openStream();
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    const third = await openStream();
    expect(third.res.status).toBe(429);
    const body = JSON.parse(await third.text());
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toMatch(/SSE_MAX_STREAMS_PER_TOKEN=2/);
    await a.close();
    const again = await eventually(async () => {
      const s = await openStream();
      if (s.res.status === 200) return s;
      await s.close();
      return undefined;
    });
    expect(again?.res.status).toBe(200);
    await again?.close();
    await b.close();
  });
});

describe('webhook targets', () => {
  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook', '127.0.0.1 is loopback'],
    ['loopback by name', 'http://localhost:8080/hook', 'localhost resolves to'],
    ['loopback in hex', 'http://0x7f.1/hook', '127.0.0.1 is loopback'],
    ['IPv6 loopback', 'http://[::1]/hook', '::1 is loopback'],
    ['IPv4-mapped', 'http://[::ffff:10.0.0.1]/hook', 'IPv4-mapped 10.0.0.1, private'],
    ['private', 'https://192.168.1.10/hook', '192.168.1.10 is private'],
    [
      'link-local (cloud metadata)',
      'http://169.254.169.254/latest/meta-data',
      '169.254.169.254 is link-local',
    ],
    ['CGNAT', 'http://100.64.0.1/hook', 'carrier-grade NAT'],
    ['unique-local IPv6', 'http://[fd12:3456::1]/hook', 'unique-local'],
  ])('a webhook to %s is refused with 422 naming the address', async (_what, url, message) => {
    const res = await cw.api('POST', '/v1/channels', { body: { type: 'webhook', url } });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain(message);
    expect(res.body.error.message).toContain('WEBHOOK_ALLOW_PRIVATE');
  });

  it('a PATCH to a private URL is refused too; a public one is taken', async () => {
    const created = await cw.api('POST', '/v1/channels', {
      body: { type: 'webhook', id: 'ch-pub', url: 'https://8.8.8.8/hook' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const patched = await cw.api('PATCH', '/v1/channels/ch-pub', { body: { url: 'http://10.1.2.3/x' } });
    expect(patched.status).toBe(422);
    expect(patched.body.error.message).toContain('10.1.2.3 is private');
    expect((await cw.api('GET', '/v1/channels/ch-pub')).body.url).toBe('https://8.8.8.8/hook');
  });
});

// ---- SSE client ---------------------------------------------------------------------------------------------------

async function openStream(headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${cw.httpUrl}/v1/alerts/stream`, {
    headers: { authorization: `Bearer ${await cw.token('compliance')}`, ...headers },
    signal: controller.signal,
  });
  const events: { id?: string; event?: string; data: string }[] = [];
  const pump =
    res.status !== 200
      ? Promise.resolve()
      : (async () => {
          const decoder = new TextDecoder();
          let buffer = '';
          try {
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
              buffer += decoder.decode(chunk, { stream: true });
              for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
                const ev: { id?: string; event?: string; data: string } = { data: '' };
                for (const line of buffer.slice(0, end).split('\n')) {
                  if (line.startsWith('id: ')) ev.id = line.slice(4);
                  else if (line.startsWith('event: ')) ev.event = line.slice(7);
                  else if (line.startsWith('data: ')) ev.data += line.slice(6);
                }
                buffer = buffer.slice(end + 2);
                if (ev.event) events.push(ev);
              }
            }
          } catch {
            // aborted
          }
        })();
  return {
    res,
    events,
    text: () => res.text(),
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}
