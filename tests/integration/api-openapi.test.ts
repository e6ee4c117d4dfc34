// The API described and locked down: /openapi.json covers every route with its roles and errors, /docs works
// offline, lists are paginated and bounded, requests carry ids, rate limits and CORS behave as configured, and a
// shipment's track comes as GPX as well as GeoJSON.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { openApiPath, registeredRoutes } from '../../src/api/openapi.ts';
import { mintToken } from '../../src/auth.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, TEST_SECRET, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let doc: any;
const HOUR = 3_600_000;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  doc = (await cw.api('GET', '/openapi.json', { role: null })).body;
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

const v1Routes = () => registeredRoutes(cw.app!).filter((r) => r.path.startsWith('/v1/'));
const operation = (method: string, path: string) => doc.paths?.[openApiPath(path)]?.[method.toLowerCase()];

describe('/openapi.json', () => {
  it('is public OpenAPI 3.1 with the bearer scheme', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents every /v1 route the app serves, with its roles', () => {
    const undocumented = v1Routes()
      .filter(({ method, path }) => !Array.isArray(operation(method, path)?.['x-roles']))
      .map(({ method, path }) => `${method} ${openApiPath(path)}`);
    expect(
      undocumented,
      `routes missing from /openapi.json (convert them with defineRoute): ${undocumented.join(', ')}`,
    ).toEqual([]);
  });

  it('documents only routes that exist', () => {
    const served = new Set(registeredRoutes(cw.app!).map((r) => `${r.method} ${openApiPath(r.path)}`));
    const stale = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        Object.keys(ops)
          .map((m) => `${m.toUpperCase()} ${path}`)
          .filter((key) => !served.has(key)),
    );
    expect(stale).toEqual([]);
  });

  it('gives every token-protected operation its roles in the description, bearer security and 401/403/429 error answers', () => {
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!path.startsWith('/v1/') || (path === '/v1/ingest/key' && method === 'get')) continue;
        const where = `${method.toUpperCase()} ${path}`;
        if (!op['x-roles']?.includes('admin')) wrong.push(`${where}: x-roles without admin`);
        if (!op.description?.includes(`Roles: ${op['x-roles']?.join(', ')}.`))
          wrong.push(`${where}: roles not described`);
        if (JSON.stringify(op.security) !== '[{"bearer":[]}]') wrong.push(`${where}: no bearer security`);
        for (const status of ['401', '403', '429', '500']) {
          const ref = op.responses?.[status]?.content?.['application/json']?.schema?.$ref;
          if (ref !== '#/components/schemas/Error') wrong.push(`${where}: ${status} not documented as Error`);
        }
        if (!Object.keys(op.responses ?? {}).some((s) => s.startsWith('2')))
          wrong.push(`${where}: no success answer`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('describes request bodies and query parameters from the schemas that validate them', () => {
    const register = operation('POST', '/v1/devices');
    expect(register.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/DeviceRegistration',
    );
    expect(doc.components.schemas.DeviceRegistration.required).toEqual(['id', 'publicKeyJwk']);
    const limit = operation('GET', '/v1/alerts').parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ maximum: 500, minimum: 1 });
    expect(operation('POST', '/v1/devices').responses['422']).toBeDefined();
  });
});

describe('/docs', () => {
  it('serves Swagger UI from this server only, pointed at /openapi.json', async () => {
    const page = await fetch(`${cw.httpUrl}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const asset of assets) {
      const res = await fetch(`${cw.httpUrl}${asset}`);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
    const init = await (await fetch(`${cw.httpUrl}/docs/assets/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    const bundle = await fetch(`${cw.httpUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.headers.get('content-type')).toContain('javascript');
  });

  it('serves no file outside its list', async () => {
    for (const name of ['package.json', '..%2F..%2Fpackage.json', 'index.html']) {
      const res = await cw.api('GET', `/docs/assets/${name}`, { role: null });
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({
        name,
        status: 404,
        code: 'NOT_FOUND',
      });
    }
  });
});

describe('requests', () => {
  it('echoes X-Request-Id, and makes one when the client sends none', async () => {
    const given = await fetch(`${cw.httpUrl}/healthz`, { headers: { 'x-request-id': 'ops-ticket-4711' } });
    expect(given.headers.get('x-request-id')).toBe('ops-ticket-4711');
    const made = await fetch(`${cw.httpUrl}/v1/alerts`);
    expect(made.status).toBe(401);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers and, with CORS_ORIGINS unset, no CORS headers', async () => {
    const res = await fetch(`${cw.httpUrl}/v1/alerts`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const plain = await fetch(`${cw.httpUrl}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    expect(plain.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('keeps the error contract on validated routes: 400 for a bad query, 415 for a body without JSON type, 404 for an impossible id', async () => {
    const badQuery = await cw.api('GET', '/v1/alerts?limit=501&severity=loud', { role: 'compliance' });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.code).toBe('BAD_REQUEST');
    expect(badQuery.body.error.message).toMatch(/limit/);
    const untyped = await fetch(`${cw.httpUrl}/v1/zones`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await cw.token('admin')}`, 'content-type': 'text/plain' },
      body: '{"id": "z"}',
    });
    expect(untyped.status).toBe(415);
    expect(((await untyped.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const alert = await cw.api('GET', '/v1/alerts/not-a-number', { role: 'compliance' });
    expect({ status: alert.status, code: alert.body.error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('lists', () => {
  it('pages through devices with cursors, at most 500 at a time', async () => {
    for (const n of [1, 2, 3]) {
      const res = await cw.api('POST', '/v1/devices', {
        body: { id: `trk-list-${n}`, publicKeyJwk: generateDeviceKey().publicJwk },
      });
      expect(res.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await cw.api(
        'GET',
        `/v1/devices?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { role: 'logistics' },
      );
      seen.push(...res.body.items.map((d) => d.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => id.startsWith('trk-list-'))).toEqual([
      'trk-list-1',
      'trk-list-2',
      'trk-list-3',
    ]);
    expect((await cw.api('GET', '/v1/devices?limit=501', { role: 'logistics' })).status).toBe(400);
    await cw.api('POST', '/v1/devices/trk-list-2/revoke', {});
    const revoked = await cw.api('GET', '/v1/devices?status=revoked', { role: 'compliance' });
    expect(revoked.body.items.map((d: { id: string }) => d.id)).toEqual(['trk-list-2']);
  });

  it('refuses a from…to range over 31 days with 400 and says what to do', async () => {
    const res = await cw.api('GET', '/v1/rejections?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', {
      role: 'compliance',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/at most 31 days/);
    const ok = await cw.api('GET', '/v1/rejections?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z', {
      role: 'compliance',
    });
    expect(ok.status).toBe(200);
  });

  it('filters zones by tier', async () => {
    const square = (lon: number) => ({
      type: 'Polygon',
      coordinates: [
        [
          [lon, 0],
          [lon + 1, 0],
          [lon + 1, 1],
          [lon, 1],
          [lon, 0],
        ],
      ],
    });
    await cw.api('POST', '/v1/zones', { body: { id: 'z-watch', tier: 'watch', geometry: square(10) } });
    await cw.api('POST', '/v1/zones', {
      body: { id: 'z-restricted', tier: 'restricted', geometry: square(20) },
    });
    const watch = await cw.api('GET', '/v1/zones?tier=watch', { role: 'logistics' });
    expect(watch.body.items.map((z: { id: string }) => z.id)).toEqual(['z-watch']);
  });
});

describe('GET /v1/shipments/{id}/track?format=gpx', () => {
  it('answers GPX 1.1 with the planned route, the timed actual track and alert points; GeoJSON stays the default', {
    timeout: 60_000,
  }, async () => {
    const key = generateDeviceKey();
    const registered = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-gpx', publicKeyJwk: key.publicJwk },
    });
    const created = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-gpx',
        reference: 'AWB <176> & "co"',
        deviceId: 'trk-gpx',
        mode: 'air',
        origin: { name: 'Taipei', lat: 25.08, lon: 121.23 },
        destination: { name: 'Amsterdam', lat: 52.31, lon: 4.76, radiusKm: 30 },
        reportIntervalS: 3600,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const tracker = new Tracker({
      deviceId: 'trk-gpx',
      key,
      mqttUrl: broker.url,
      ackKey: cw.ackKey,
      mqttPassword: registered.body.mqttPassword,
    });
    const start = Date.now() - 3 * HOUR;
    try {
      await tracker.waitConnected();
      tracker.send([
        { ts: start, lat: 25.08, lon: 121.23, speedKmh: 0 },
        { ts: start + HOUR, lat: 27.5, lon: 118.0, speedKmh: 850 },
        { ts: start + 2 * HOUR, lat: 30.2, lon: 114.3, speedKmh: 850 },
      ]);
      expect(await tracker.waitAllAcked(30_000)).toBe(true);
    } finally {
      await tracker.close();
    }
    const res = await fetch(`${cw.httpUrl}/v1/shipments/shp-gpx/track?format=gpx`, {
      headers: { authorization: `Bearer ${await cw.token('logistics')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/gpx+xml');
    const gpx = await res.text();
    expect(gpx).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<gpx version="1.1"/);
    expect(gpx).toContain('<desc>AWB &lt;176&gt; &amp; &quot;co&quot;</desc>');
    expect(gpx.match(/<rtept /g)?.length).toBeGreaterThan(2);
    const trkpts = [...gpx.matchAll(/<trkpt lat="([^"]+)" lon="([^"]+)"><time>([^<]+)<\/time><\/trkpt>/g)];
    expect(trkpts.map((m) => [Number(m[1]), Number(m[2])])).toEqual([
      [25.08, 121.23],
      [27.5, 118],
      [30.2, 114.3],
    ]);
    expect(Date.parse(trkpts[0]![3]!)).toBe(start);
    // The track flew into China, a restricted country: its alert is a waypoint.
    expect(gpx).toMatch(
      /<wpt lat="[^"]+" lon="[^"]+">(<time>[^<]+<\/time>)?<name>RESTRICTED_ZONE_ENTERED<\/name>/,
    );

    const geojson = await cw.api('GET', '/v1/shipments/shp-gpx/track', { role: 'logistics' });
    expect(geojson.body.type).toBe('FeatureCollection');
    expect(geojson.body.features[2].geometry.coordinates).toHaveLength(3);
    const bad = await cw.api('GET', '/v1/shipments/shp-gpx/track?format=kml', { role: 'logistics' });
    expect(bad.status).toBe(400);
  });
});

describe('rate limits and CORS, configured', () => {
  let limited: TestChipwatch;
  beforeAll(async () => {
    limited = await startTestChipwatch({
      DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
      MQTT_URL: broker.url,
      // One request a minute after a burst of 3: no test here runs long enough to see a token refill.
      RATE_LIMIT_PER_MIN: '1',
      RATE_LIMIT_BURST: '3',
      CORS_ORIGINS: 'https://ops.example.com',
    });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  const tokenFor = (sub: string) =>
    mintToken(new TextEncoder().encode(TEST_SECRET), {
      sub,
      role: 'compliance',
      issuer: 'chipwatch',
      ttlS: 600,
    });

  it('limits each token sub on its own: a burst, then 429 with Retry-After and RateLimit headers', async () => {
    const alice = await tokenFor('alice');
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${limited.httpUrl}/v1/alerts`, {
        headers: { authorization: `Bearer ${alice}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await fetch(`${limited.httpUrl}/v1/alerts`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    // Another user is not held back by alice.
    const bob = await fetch(`${limited.httpUrl}/v1/alerts`, {
      headers: { authorization: `Bearer ${await tokenFor('bob')}` },
    });
    expect(bob.status).toBe(200);
  });

  it('counts failed tokens and public paths against the client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await fetch(`${limited.httpUrl}/v1/alerts`, { headers: { authorization: 'Bearer forged' } })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await fetch(`${limited.httpUrl}/healthz`)).status).toBe(429);
    // A valid token still works from the same address: it has its own bucket.
    const carol = await fetch(`${limited.httpUrl}/v1/alerts`, {
      headers: { authorization: `Bearer ${await tokenFor('carol')}` },
    });
    expect(carol.status).toBe(200);
  });

  it('answers CORS preflights for the configured origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${limited.httpUrl}/v1/alerts`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const ok = await preflight('https://ops.example.com');
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
