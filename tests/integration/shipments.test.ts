// Shipments end to end through the ingest path, with realistic geography: signed telemetry over MQTT, checks in the
// batch transaction, alerts and their lifecycle over the API.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Tracker } from '../../device-sim/tracker.ts';
import { sweepSilentShipments } from '../../src/alerts/signal-lost.ts';
import type { Fix } from '../../src/checks/types.ts';
import { buildPlannedRoute } from '../../src/geo/routes.ts';
import { destinationPoint, haversineKm, initialBearingDeg } from '../../src/geo/spherical.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { registerDevice, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { alongRoute } from '../helpers/geo.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
const trackers: Tracker[] = [];
const HOUR = 3_600_000;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    SIGNAL_LOST_SWEEP_S: '3600', // the timer is driven by hand below
  });
});
afterAll(async () => {
  for (const t of trackers) await t.close();
  await cw?.stop();
  await broker?.stop();
});

const KAOHSIUNG = { name: 'Kaohsiung', lat: 22.61, lon: 120.27, radiusKm: 25 };
const ROTTERDAM = { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 30 };

async function shipment(id: string, body: Record<string, unknown>) {
  const deviceId = `trk-${id}`;
  const { key, mqttPassword } = await registerDevice(cw, deviceId);
  const res = await cw.api('POST', '/v1/shipments', { role: 'logistics', body: { id, deviceId, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const tracker = new Tracker({ deviceId, key, mqttUrl: broker.url, ackKey: cw.ackKey, mqttPassword });
  trackers.push(tracker);
  await tracker.waitConnected();
  return {
    res,
    /** Sends fixes as a tracker would: in messages of `perMessage` records, in order. */
    send: async (fixes: Fix[], perMessage = 50) => {
      for (let i = 0; i < fixes.length; i += perMessage) tracker.send(fixes.slice(i, i + perMessage));
      expect(await tracker.waitAllAcked(60_000)).toBe(true);
    },
  };
}

const alerts = async (shipmentId: string) =>
  (await cw.api('GET', `/v1/alerts?shipmentId=${shipmentId}`, { role: 'compliance' })).body.items as {
    id: string;
    type: string;
    status: string;
    firstEvidenceAt: string;
    details: Record<string, unknown>;
  }[];
const firstEvidence = (list: Awaited<ReturnType<typeof alerts>>, type: string) => {
  const a = list.find((x) => x.type === type);
  return a ? Date.parse(a.firstEvidenceAt) : undefined;
};

/** Ends `hoursAgo` before now, so every timestamp lies in the past. */
const backdate = (fixes: Fix[], endHoursAgo = 1): Fix[] => {
  const shift = Date.now() - endHoursAgo * HOUR - fixes.at(-1)!.ts;
  return fixes.map((f) => ({ ...f, ts: f.ts + shift }));
};

describe('sea: Kaohsiung → Rotterdam', () => {
  const route = buildPlannedRoute({ mode: 'sea', origin: KAOHSIUNG, destination: ROTTERDAM });
  // Real GNSS: metres of noise and varying hdop and satellites (a noise-free track is SPOOFING_SUSPECTED too_regular).
  const voyage = alongRoute(route.legs[0]!.coordinates, 35, 60, 0).map((f, i) => ({
    ...f,
    ...destinationPoint(f, (i * 137) % 360, 0.004 + (i % 7) * 0.001),
    hdop: 0.7 + (i % 5) * 0.1,
    satellites: 8 + (i % 4),
  }));

  it('raises nothing for a voyage on its lane, and arrives', { timeout: 120_000 }, async () => {
    const s = await shipment('shp-clean', {
      mode: 'sea',
      origin: KAOHSIUNG,
      destination: ROTTERDAM,
      corridorKm: 50,
      reportIntervalS: 3600,
    });
    expect(s.res.body.routeLengthKm).toBeGreaterThan(15_000);
    await s.send(
      // Arrival is a stop inside the destination (two fixes an hour apart, standing), not one fix passing it.
      backdate([
        ...voyage,
        { ...voyage.at(-1)!, ts: voyage.at(-1)!.ts + HOUR, lat: 51.91, lon: 4.41, speedKmh: 0 },
        { ...voyage.at(-1)!, ts: voyage.at(-1)!.ts + 2 * HOUR, lat: 51.9101, lon: 4.4102, speedKmh: 0 },
      ]),
      100,
    );
    expect(await alerts('shp-clean')).toEqual([]);
    const got = (await cw.api('GET', '/v1/shipments/shp-clean', { role: 'logistics' })).body;
    expect(got.status).toBe('arrived');
    expect(got.progress.percent).toBe(100);
    expect(got.openAlerts).toEqual([]);
    const track = (await cw.api('GET', '/v1/shipments/shp-clean/track', { role: 'logistics' })).body;
    expect(track.features.map((f: { properties: { kind: string } }) => f.properties.kind)).toEqual([
      'plannedRoute',
      'corridor',
      'actualTrack',
    ]);
    expect(track.features[2].geometry.coordinates.length).toBe(voyage.length + 2);
  });

  it('raises ROUTE_DEVIATION, then DIVERSION_TOWARD_RESTRICTED before RESTRICTED_ZONE_ENTERED when the ship turns toward Hainan', {
    timeout: 120_000,
  }, async () => {
    // The first fix of the voyage south of 18.5°N in the South China Sea: from there, steer for Sanya.
    const turnAt = voyage.findIndex((f) => f.lat < 18.5 && f.lon < 117);
    expect(turnAt).toBeGreaterThan(0);
    const turn = voyage[turnAt]!;
    const sanya = { lat: 18.6, lon: 109.6 }; // inland from Sanya, Hainan
    const diverted: Fix[] = [];
    // Steaming at 35 km/h until just past the port.
    for (let i = 1; i <= Math.ceil(haversineKm(turn, sanya) / 35) + 1; i++) {
      const p = destinationPoint(turn, initialBearingDeg(turn, sanya), 35 * i);
      diverted.push({ ts: turn.ts + i * HOUR, lat: p.lat, lon: p.lon, speedKmh: 35 });
    }
    const s = await shipment('shp-divert', {
      mode: 'sea',
      origin: KAOHSIUNG,
      destination: ROTTERDAM,
      corridorKm: 50,
      reportIntervalS: 3600,
    });
    await s.send(backdate([...voyage.slice(0, turnAt + 1), ...diverted]), 6);
    const list = await alerts('shp-divert');
    const deviation = firstEvidence(list, 'ROUTE_DEVIATION');
    const diversion = firstEvidence(list, 'DIVERSION_TOWARD_RESTRICTED');
    const entered = firstEvidence(list, 'RESTRICTED_ZONE_ENTERED');
    expect(
      [deviation, diversion, entered].every((t) => t !== undefined),
      JSON.stringify(list.map((a) => a.type)),
    ).toBe(true);
    expect(deviation!).toBeLessThanOrEqual(diversion!);
    expect(diversion!).toBeLessThan(entered!);
    expect(list.find((a) => a.type === 'RESTRICTED_ZONE_ENTERED')!.details.country).toBe('CN');
    // The suspect positions are stored with the shipment.
    const positions = (
      await cw.api('GET', '/v1/shipments/shp-divert/positions?limit=10000', { role: 'logistics' })
    ).body.items;
    expect(positions).toHaveLength(turnAt + 1 + diverted.length);
    expect(positions.every((p: { shipmentId: string }) => p.shipmentId === 'shp-divert')).toBe(true);
  });

  it('raises GAP_WITH_DISPLACEMENT for a tracker dark for 10 hours that reappears 600 km off the route', {
    timeout: 60_000,
  }, async () => {
    const part = voyage.slice(0, 120);
    const last = part.at(-1)!;
    const off = destinationPoint(last, initialBearingDeg(last, part.at(-2)!) + 90, 600);
    const s = await shipment('shp-dark', {
      mode: 'sea',
      origin: KAOHSIUNG,
      destination: ROTTERDAM,
      reportIntervalS: 3600,
    });
    await s.send(backdate([...part, { ts: last.ts + 10 * HOUR, lat: off.lat, lon: off.lon, speedKmh: 30 }]));
    const gap = (await alerts('shp-dark')).find((a) => a.type === 'GAP_WITH_DISPLACEMENT');
    expect(gap?.details).toMatchObject({ gapHours: 10 });
  });
});

describe('air: Taipei → Amsterdam', () => {
  const waypoints: [number, number][] = [
    [121.23, 25.08],
    [114.5, 20.5],
    [103.9, 1.35],
    [79.9, 6.9],
    [72.9, 19.1],
    [58.4, 23.6],
    [39.2, 21.5],
    [31.2, 30.0],
    [23.7, 37.9],
    [4.76, 52.31],
  ];
  it('raises DIVERSION_TOWARD_RESTRICTED before RESTRICTED_ZONE_ENTERED when the aircraft turns for Moscow', {
    timeout: 60_000,
  }, async () => {
    const route = buildPlannedRoute({
      mode: 'air',
      origin: { lat: 25.08, lon: 121.23 },
      destination: { lat: 52.31, lon: 4.76 },
      route: { type: 'LineString', coordinates: waypoints },
    });
    const flight = alongRoute(route.legs[0]!.coordinates, 850, 15, 0);
    const cut = flight.findIndex((f) => f.lat > 31 && f.lon < 31.5);
    const turn = flight[cut]!;
    const moscow = { lat: 55.75, lon: 37.6 };
    const diverted = Array.from({ length: 14 }, (_, i) => {
      const p = destinationPoint(turn, initialBearingDeg(turn, moscow), (850 * (i + 1)) / 4);
      return { ts: turn.ts + (i + 1) * 15 * 60_000, lat: p.lat, lon: p.lon, speedKmh: 850 };
    });
    const s = await shipment('shp-air', {
      mode: 'air',
      origin: { name: 'Taipei', lat: 25.08, lon: 121.23, radiusKm: 30 },
      destination: { name: 'Amsterdam', lat: 52.31, lon: 4.76, radiusKm: 30 },
      route: { type: 'LineString', coordinates: waypoints },
      corridorKm: 100,
      reportIntervalS: 900,
    });
    await s.send(backdate([...flight.slice(0, cut + 1), ...diverted]), 4);
    const list = await alerts('shp-air');
    const diversion = firstEvidence(list, 'DIVERSION_TOWARD_RESTRICTED');
    const entered = firstEvidence(list, 'RESTRICTED_ZONE_ENTERED');
    expect(diversion, JSON.stringify(list.map((a) => a.type))).toBeDefined();
    expect(entered).toBeDefined();
    expect(diversion!).toBeLessThan(entered!);
    expect(list.find((a) => a.type === 'RESTRICTED_ZONE_ENTERED')!.details.country).toBe('RU');
  });
});

describe('road and lifecycle', () => {
  it('raises UNPLANNED_STOP for a truck stopped 8 hours in a watch-country free-trade zone; the alert is acknowledged and resolved with an audit trail', {
    timeout: 60_000,
  }, async () => {
    const roadRoute: [number, number][] = [
      [103.85, 1.29],
      [101.39, 3.0],
      [101.69, 3.14],
      [100.5, 13.75],
    ];
    const s = await shipment('shp-truck', {
      mode: 'road',
      origin: { name: 'Singapore', lat: 1.29, lon: 103.85, radiusKm: 20 },
      destination: { name: 'Bangkok', lat: 13.75, lon: 100.5, radiusKm: 20 },
      route: { type: 'LineString', coordinates: roadRoute },
      reportIntervalS: 900,
    });
    const drive = alongRoute(roadRoute.slice(0, 2), 60, 15, 0);
    const stopAt = drive.at(-1)!;
    const parked = Array.from({ length: 32 }, (_, i) => ({
      ts: stopAt.ts + (i + 1) * 15 * 60_000,
      lat: stopAt.lat + ((i % 2) - 0.5) * 0.0004,
      lon: stopAt.lon,
      speedKmh: 0,
    }));
    await s.send(backdate([...drive, ...parked], 0.1), 8);
    const stop = (await alerts('shp-truck')).find((a) => a.type === 'UNPLANNED_STOP');
    expect(stop?.details).toMatchObject({ country: 'MY', thresholdMinutes: 120 });
    const metrics = await (await fetch(`${cw.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/chipwatch_alerts_total\{type="UNPLANNED_STOP",action="opened"\} 1/);

    expect((await cw.api('POST', `/v1/alerts/${stop!.id}/ack`, { role: 'logistics' })).status).toBe(403);
    expect(
      (
        await cw.api('POST', `/v1/alerts/${stop!.id}/ack`, {
          role: 'compliance',
          body: { note: 'calling the carrier' },
        })
      ).body.status,
    ).toBe('acknowledged');
    expect(
      (await cw.api('POST', `/v1/alerts/${stop!.id}/resolve`, { role: 'compliance', body: {} })).status,
    ).toBe(422);
    const blank = await cw.api('POST', `/v1/alerts/${stop!.id}/resolve`, {
      role: 'compliance',
      body: { note: ' \t ' },
    });
    expect([blank.status, blank.body.error?.message]).toEqual([422, 'note: a note saying why is required']);
    const resolved = await cw.api('POST', `/v1/alerts/${stop!.id}/resolve`, {
      role: 'compliance',
      body: { note: 'customs inspection, documented' },
    });
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      resolution: 'customs inspection, documented',
      resolvedBy: 'test-compliance',
    });
    expect(resolved.body.audit.map((a: { action: string }) => a.action)).toEqual([
      'opened',
      'acknowledged',
      'resolved',
    ]);
    expect((await cw.api('POST', `/v1/alerts/${stop!.id}/ack`, { role: 'compliance' })).status).toBe(409);
  });

  it('raises SIGNAL_LOST from the timer for a silent shipment, and resolves it when telemetry resumes', {
    timeout: 60_000,
  }, async () => {
    const s = await shipment('shp-silent', {
      mode: 'sea',
      origin: KAOHSIUNG,
      destination: ROTTERDAM,
      reportIntervalS: 600,
    });
    const now = Date.now();
    await s.send([{ ts: now - 2 * HOUR, lat: 22.0, lon: 119.9 }]);
    expect(await sweepSilentShipments(cw.pool, now)).toBeGreaterThanOrEqual(1);
    expect(await sweepSilentShipments(cw.pool, now)).toBe(0);
    expect((await alerts('shp-silent')).find((a) => a.type === 'SIGNAL_LOST')?.status).toBe('open');
    await s.send([{ ts: now - 60_000, lat: 21.9, lon: 119.5 }]);
    expect((await alerts('shp-silent')).find((a) => a.type === 'SIGNAL_LOST')?.status).toBe('resolved');
  });

  it('checks a custom restricted zone as soon as an admin adds it, and refuses bad shipments', async () => {
    const donetsk = {
      type: 'Polygon',
      coordinates: [
        [
          [37.0, 47.5],
          [39.5, 47.5],
          [39.5, 49.0],
          [37.0, 49.0],
          [37.0, 47.5],
        ],
      ],
    };
    expect(
      (
        await cw.api('POST', '/v1/zones', {
          role: 'logistics',
          body: { id: 'ua-dnr', tier: 'restricted', geometry: donetsk },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await cw.api('POST', '/v1/zones', {
          body: {
            id: 'ua-dnr',
            name: 'Donetsk (occupied)',
            tier: 'restricted',
            country: 'UA',
            geometry: donetsk,
          },
        })
      ).status,
    ).toBe(201);
    const s = await shipment('shp-zone', {
      mode: 'road',
      origin: { lat: 50.45, lon: 30.52, radiusKm: 20 },
      destination: { lat: 49.99, lon: 36.23, radiusKm: 20 },
      route: {
        type: 'LineString',
        coordinates: [
          [30.52, 50.45],
          [36.23, 49.99],
        ],
      },
    });
    await s.send([{ ts: Date.now() - 60_000, lat: 48.0, lon: 37.8 }]);
    expect(
      (await alerts('shp-zone')).find((a) => a.type === 'RESTRICTED_ZONE_ENTERED')?.details,
    ).toMatchObject({ zoneId: 'ua-dnr', kind: 'custom' });

    const bad = (body: Record<string, unknown>) =>
      cw.api('POST', '/v1/shipments', {
        role: 'logistics',
        body: {
          id: 'shp-bad',
          deviceId: 'trk-shp-zone',
          mode: 'sea',
          origin: KAOHSIUNG,
          destination: ROTTERDAM,
          ...body,
        },
      });
    expect((await bad({ mode: 'road' })).status).toBe(422);
    expect((await bad({ deviceId: 'no-such-device' })).status).toBe(422);
    expect(
      (
        await bad({
          route: {
            type: 'LineString',
            coordinates: [
              [0, 95],
              [1, 1],
            ],
          },
        })
      ).status,
    ).toBe(422);
    expect((await bad({})).status).toBe(409); // trk-shp-zone already rides with shp-zone
    expect(
      (await cw.api('GET', '/v1/shipments?status=in_transit', { role: 'logistics' })).body.items.length,
    ).toBeGreaterThan(0);
  });
});

describe('lists', () => {
  it('sorts shipments newest first across pages, filters by mode and device, and reads positions newest first', async () => {
    const all = (await cw.api('GET', '/v1/shipments?limit=500', { role: 'logistics' })).body.items as any[];
    expect(all.length).toBeGreaterThan(3);
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await cw.api(
        'GET',
        `/v1/shipments?sort=newest&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { role: 'logistics' },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.map((s) => s.id).sort()).toEqual(all.map((s) => s.id).sort());
    const created = seen.map((s) => Date.parse(s.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const air = (await cw.api('GET', '/v1/shipments?mode=air', { role: 'logistics' })).body.items as any[];
    expect(air.length).toBeGreaterThan(0);
    expect(air.every((s) => s.mode === 'air')).toBe(true);
    const one = all.find((s) => s.lastPosition);
    const byDevice = (await cw.api('GET', `/v1/shipments?deviceId=${one.deviceId}`, { role: 'logistics' }))
      .body.items;
    expect(byDevice.map((s: any) => s.id)).toEqual([one.id]);

    const asc = (await cw.api('GET', `/v1/shipments/${one.id}/positions?limit=3`, { role: 'logistics' })).body
      .items;
    const desc = (
      await cw.api('GET', `/v1/shipments/${one.id}/positions?limit=3&order=desc`, { role: 'logistics' })
    ).body.items;
    expect(Date.parse(desc[0].ts)).toBeGreaterThan(Date.parse(asc[0].ts));
    expect(desc.map((p: any) => Date.parse(p.ts))).toEqual(
      desc.map((p: any) => Date.parse(p.ts)).sort((a: number, b: number) => b - a),
    );
    expect(desc[0].ts).toBe(one.lastPosition.ts);
  });
});
