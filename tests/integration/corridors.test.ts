// A shipment's corridor is built once, on a worker thread, when the shipment is registered or its corridor width
// changes, and stored on it (migration 0013); GET …/track reads it. Other requests are answered while it is built
// (order of completion, never a clock). It is exactly the polygon corridorPolygon draws. A shipment whose corridor
// was never stored (registered before 0013) has it built on first use, and stored. Real PostgreSQL, real broker.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { createCorridorCache } from '../../src/api/corridor-cache.ts';
import type { ShipmentRecord } from '../../src/checks/shipment.ts';
import { CorridorBuilder } from '../../src/geo/corridor-builder.ts';
import { buildPlannedRoute, corridorPolygon } from '../../src/geo/routes.ts';
import type { Position } from '../../src/geo/types.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let databaseUrl: string;

beforeAll(async () => {
  broker = await startAedes();
  databaseUrl = await createTestDatabase(inject('pgAdminUrl'));
  cw = await startTestChipwatch({ DATABASE_URL: databaseUrl, MQTT_URL: broker.url });
  for (const id of ['trk-cor-1', 'trk-cor-2', 'trk-cor-3', 'trk-cor-4']) {
    const res = await cw.api('POST', '/v1/devices', {
      body: { id, publicKeyJwk: generateDeviceKey().publicJwk },
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

/** A long, winding flight: 160 points from Lisbon to Tokyo, ~13,000 km. */
const longRoute: Position[] = Array.from({ length: 160 }, (_, i) => [
  -9.1 + (148.9 * i) / 159,
  38.7 + (35.7 - 38.7) * (i / 159) + 6 * Math.sin(i / 6),
]);
const origin = { name: 'Lisbon', lat: longRoute[0]![1], lon: longRoute[0]![0] };
const destination = { name: 'Tokyo', lat: longRoute.at(-1)![1], lon: longRoute.at(-1)![0], radiusKm: 50 };

const registration = (id: string, deviceId: string, corridorKm = 50) => ({
  id,
  deviceId,
  mode: 'air',
  origin,
  destination,
  corridorKm,
  route: { type: 'LineString', coordinates: longRoute },
});

/** The corridor as corridorPolygon draws it for this route, as JSON carries it. */
const expected = (corridorKm: number) =>
  JSON.parse(
    JSON.stringify(
      corridorPolygon(
        buildPlannedRoute({
          mode: 'air',
          origin,
          destination,
          route: { type: 'LineString', coordinates: longRoute },
        }),
        corridorKm,
      ),
    ),
  );

const stored = async (id: string) =>
  (await cw.sql<{ corridor: any }>('SELECT corridor FROM shipments WHERE id = $1', [id]))[0]!.corridor;

const trackCorridor = async (id: string) => {
  const res = await cw.api('GET', `/v1/shipments/${id}/track`, { role: 'logistics' });
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  return res.body.features.find((f: any) => f.properties.kind === 'corridor');
};

describe('a corridor built at registration', () => {
  it('is built off the event loop: /healthz is answered, again and again, while the registration builds it', async () => {
    const order: string[] = [];
    const reg = cw
      .api('POST', '/v1/shipments', { role: 'logistics', body: registration('shp-cor-long', 'trk-cor-1') })
      .then((r) => {
        order.push('registration');
        return r;
      });
    // The shipment row is committed before its corridor is built: from then on the registration is building it.
    while (
      (await cw.sql('SELECT 1 FROM shipments WHERE id = $1', ['shp-cor-long'])).length === 0 &&
      !order.length
    )
      await new Promise((r) => setTimeout(r, 5));
    // Three in a row: a build on the event loop would leave at most the gaps around its database calls to answer in.
    for (let i = 0; i < 3; i++) {
      const health = await fetch(`${cw.httpUrl}/healthz`);
      expect(health.status).toBe(200);
      order.push('healthz');
    }
    const res = await reg;
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(order).toEqual(['healthz', 'healthz', 'healthz', 'registration']);
  });

  it('is stored by the time the registration answers, exactly as corridorPolygon draws it', async () => {
    const c = await stored('shp-cor-long');
    expect(c.corridorKm).toBe(50);
    expect(c.geometry).toEqual(expected(50));
  });

  it('is what GET …/track shows, read as stored, not built again', async () => {
    expect((await trackCorridor('shp-cor-long')).geometry).toEqual(expected(50));
    // A stand-in written over the stored corridor is what the next track shows: the track reads, never builds.
    const standIn = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 0],
        ],
      ],
    };
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: registration('shp-cor-standin', 'trk-cor-2'),
    });
    expect(res.status).toBe(201);
    await cw.sql(
      `UPDATE shipments SET corridor = jsonb_set(corridor, '{geometry}', $2::jsonb) WHERE id = $1`,
      ['shp-cor-standin', JSON.stringify(standIn)],
    );
    const corridor = await trackCorridor('shp-cor-standin');
    expect(corridor.geometry).toEqual(standIn);
    expect(corridor.properties.corridorKm).toBe(50);
  });

  it('is built again, and stored, when a PATCH changes the corridor width', async () => {
    const res = await cw.api('PATCH', '/v1/shipments/shp-cor-long', {
      role: 'compliance',
      body: { corridorKm: 30.5, reason: 'narrower corridor for the test' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const c = await stored('shp-cor-long');
    expect(c.corridorKm).toBe(30.5);
    expect(c.geometry).toEqual(expected(30.5));
    const corridor = await trackCorridor('shp-cor-long');
    expect(corridor.properties.corridorKm).toBe(30.5);
    expect(corridor.geometry).toEqual(expected(30.5));
  });
});

describe('a shipment whose corridor was never stored (registered before migration 0013)', () => {
  it('has it built on first use, off the event loop, and stored', async () => {
    const res = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: registration('shp-cor-old', 'trk-cor-3', 40),
    });
    expect(res.status).toBe(201);
    await cw.sql('UPDATE shipments SET corridor = NULL WHERE id = $1', ['shp-cor-old']);
    const order: string[] = [];
    const track = trackCorridor('shp-cor-old').then((c) => {
      order.push('track');
      return c;
    });
    const health = await fetch(`${cw.httpUrl}/healthz`);
    order.push('healthz');
    expect(health.status).toBe(200);
    expect((await track).geometry).toEqual(expected(40));
    expect(order).toEqual(['healthz', 'track']);
    expect(await stored('shp-cor-old')).toEqual({ corridorKm: 40, geometry: expected(40) });
  });
});

describe('createCorridorCache', () => {
  let pool: pg.Pool;
  const builder = new CorridorBuilder();
  const route = buildPlannedRoute({
    mode: 'air',
    origin: { lat: 52.3, lon: 4.8 },
    destination: { lat: 50.1, lon: 8.7 },
  });
  const shipment = (id: string, corridorKm = 20) => ({ id, corridorKm, route }) as unknown as ShipmentRecord;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  });
  afterAll(async () => {
    await builder.close();
    await pool?.end();
  });

  it('builds a corridor once per shipment and width, however many ask at once', async () => {
    const cache = createCorridorCache(pool, { maxEntries: 10, builder });
    const before = builder.built;
    const [a, b] = await Promise.all([cache.of(shipment('a')), cache.of(shipment('a'))]);
    expect(b).toBe(a);
    expect(await cache.of(shipment('a'))).toBe(a);
    expect(builder.built - before).toBe(1);
    expect(a).toEqual(corridorPolygon(route, 20));
    await cache.of(shipment('a', 25));
    expect(builder.built - before).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest; two caches share nothing', async () => {
    const cache = createCorridorCache(pool, { maxEntries: 2, builder });
    const a = await cache.of(shipment('a'));
    await cache.of(shipment('b'));
    await cache.of(shipment('c'));
    expect(cache.size()).toBe(2);
    expect(await cache.of(shipment('a'))).not.toBe(a);
    expect(createCorridorCache(pool, { builder }).size()).toBe(0);
  });

  it('builds off the event loop: the loop keeps turning until the long corridor arrives', async () => {
    const long = buildPlannedRoute({
      mode: 'air',
      origin,
      destination,
      route: { type: 'LineString', coordinates: longRoute },
    });
    const order: string[] = [];
    let turns = 0;
    let built = false;
    const spin = async () => {
      while (!built) {
        await new Promise((r) => setImmediate(r));
        if (!built && turns++ === 0) order.push('loop turned');
      }
    };
    const spinning = spin();
    const c = await builder.build(long, 50).finally(() => {
      built = true;
      order.push('built');
    });
    await spinning;
    // Built on this thread, the corridor would be done before the loop turned once.
    expect(order).toEqual(['loop turned', 'built']);
    expect(c).toEqual(corridorPolygon(long, 50));
  });

  it('fails the builds in flight when its worker stops, and starts a new worker for the next', async () => {
    const own = new CorridorBuilder();
    // The expectation holds the rejection before close() causes it, so it is never unhandled.
    const failed = expect(own.build(route, 20)).rejects.toThrow('the corridor builder was closed');
    await own.close();
    await failed;
    expect(await own.build(route, 20)).toEqual(corridorPolygon(route, 20));
    await own.close();
  });

  it('refuses what corridorPolygon refuses, with its reason, and keeps working', async () => {
    await expect(builder.build(route, -1)).rejects.toThrow('corridorKm must be a positive number, got -1');
    expect(await builder.build(route, 20)).toEqual(corridorPolygon(route, 20));
  });
});
