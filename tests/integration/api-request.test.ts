// Routes through app.request() against a real PostgreSQL, no broker and no server: landmarks created and listed,
// a site registered and read (404 before), a chip's custody from the shipment that carries it, channels and
// their deliveries.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { geo } from '../helpers/geo.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { testApp } from '../unit/api/routes/app.ts';

let pool: Pool;
let call: ReturnType<typeof testApp>['call'];

beforeAll(async () => {
  const url = await createTestDatabase(inject('pgAdminUrl'));
  await migrate(url);
  pool = createPool(url, 4);
  ({ call } = testApp({ db: pool, geo: geo() }));
});
afterAll(async () => {
  await pool?.end();
});

describe('/v1/landmarks', () => {
  it('creates a landmark (201), refuses the same id (409) and lists it', async () => {
    const body = { id: 'lm-ams', name: 'Amsterdam IX', lat: 52.35, lon: 4.95 };
    const created = await call('POST', '/v1/landmarks', { body });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(body);
    expect((await call('POST', '/v1/landmarks', { body })).status).toBe(409);
    const list = await call('GET', '/v1/landmarks', { role: 'compliance' });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.items).toEqual([{ ...body, createdAt: expect.any(String) }]);
  });
});

describe('/v1/sites', () => {
  it('answers 404 for a site not registered, then the site once it is, its country from its point', async () => {
    expect((await call('GET', '/v1/sites/dc-ams-01', { role: 'compliance' })).status).toBe(404);
    const key = generateDeviceKey();
    const created = await call('POST', '/v1/sites', {
      body: { id: 'dc-ams-01', name: 'DC Amsterdam', lat: 52.3, lon: 4.9, publicKeyJwk: key.publicJwk },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: 'dc-ams-01',
      country: 'NL',
      status: 'never_attested',
      radiusKm: 5,
    });
    const site = await call('GET', '/v1/sites/dc-ams-01', { role: 'compliance' });
    expect(site.status).toBe(200);
    expect(site.body).toMatchObject({
      id: 'dc-ams-01',
      keys: [{ kid: key.kid }],
      chips: [],
      feasibleRegion: null,
      recentAttestations: [],
      openAlerts: [],
    });
    const page = await call('GET', '/v1/sites?limit=1', { role: 'compliance' });
    expect(page.body.items.map((s: { id: string }) => s.id)).toEqual(['dc-ams-01']);
    expect(page.body.nextCursor).toEqual(expect.any(String));
  });
});

describe('/v1/chips', () => {
  it("answers a chip's custody from the shipment that carries it, and 404 for a chip nothing carried", async () => {
    const key = generateDeviceKey();
    expect(
      (await call('POST', '/v1/devices', { body: { id: 'trk-custody', publicKeyJwk: key.publicJwk } }))
        .status,
    ).toBe(201);
    const shipment = await call('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-custody',
        deviceId: 'trk-custody',
        mode: 'air',
        origin: { lat: 37.6, lon: -122.4 },
        destination: { siteId: 'dc-ams-01' },
        chips: ['GPU-C-1', 'GPU-C-2'],
      },
    });
    expect(shipment.status, JSON.stringify(shipment.body)).toBe(201);
    const custody = await call('GET', '/v1/chips/GPU-C-2', { role: 'compliance' });
    expect(custody.status).toBe(200);
    expect(custody.body).toMatchObject({
      serial: 'GPU-C-2',
      shipments: [{ id: 'shp-custody', deviceId: 'trk-custody', status: 'planned', fixes: { count: 0 } }],
      attestations: [],
      attestationsTruncated: false,
      sites: [],
      alerts: [],
    });
    expect((await call('GET', '/v1/chips/GPU-NONE', { role: 'compliance' })).status).toBe(404);
  });
});

describe('/v1/channels and /v1/deliveries', () => {
  it('adds a webhook with a generated secret shown once, and lists no deliveries yet', async () => {
    const created = await call('POST', '/v1/channels', {
      body: { type: 'webhook', id: 'ch-hook', url: 'https://ops.example.com/hook' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'ch-hook', secretSet: true, secret: expect.any(String) });
    const read = await call('GET', '/v1/channels/ch-hook');
    expect(read.body.secret).toBeUndefined();
    const patched = await call('PATCH', '/v1/channels/ch-hook', { body: { to: ['a@example.com'] } });
    expect(patched.status).toBe(422);
    expect(patched.body.error.message).toBe('to: only a email channel has it; this one is webhook');
    expect((await call('GET', '/v1/channels/ch-hook/deliveries')).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await call('GET', '/v1/deliveries?status=dead')).body).toEqual({ items: [], nextCursor: null });
  });
});
