// Leaving after arrival (issue 14): a shipment that has arrived (stopped inside its destination) and then leaves
// again is still the device's shipment: the ingest takes the latest arrived shipment of a device that has no active
// one, the checks put it back in transit, and a course from the destination toward a restricted country raises the
// diversion and route alerts like any voyage. Real PostgreSQL, a real broker, signed telemetry.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Tracker } from '../../device-sim/tracker.ts';
import type { Fix } from '../../src/checks/types.ts';
import { destinationPoint, initialBearingDeg } from '../../src/geo/spherical.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { registerDevice, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let tracker: Tracker | undefined;
const HOUR = 3_600_000;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    SIGNAL_LOST_SWEEP_S: '3600',
  });
});
afterAll(async () => {
  await tracker?.close();
  await cw?.stop();
  await broker?.stop();
});

const HAIPHONG = { name: 'Haiphong', lat: 20.84, lon: 106.69, radiusKm: 15 };
const DA_NANG = { name: 'Da Nang', lat: 16.07, lon: 108.22, radiusKm: 15 };
const SANYA = { lat: 18.6, lon: 109.6 }; // inland from Sanya, Hainan (China: restricted)

/** Metres of GNSS noise, varying hdop and satellites: a real receiver. */
const noisy = (fixes: Fix[]): Fix[] =>
  fixes.map((f, i) => ({
    ...f,
    ...destinationPoint(f, (i * 137) % 360, 0.004 + (i % 7) * 0.001),
    hdop: 0.7 + (i % 5) * 0.1,
    satellites: 8 + (i % 4),
  }));

describe('leaving the destination after arrival', () => {
  it('puts the shipment back in transit and raises diversion and deviation alerts toward China', {
    timeout: 120_000,
  }, async () => {
    const deviceId = 'trk-arrival';
    const { key, mqttPassword } = await registerDevice(cw, deviceId);
    const created = await cw.api('POST', '/v1/shipments', {
      role: 'logistics',
      body: {
        id: 'shp-arrival',
        deviceId,
        mode: 'sea',
        origin: HAIPHONG,
        destination: DA_NANG,
        corridorKm: 30,
        reportIntervalS: 3600,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    tracker = new Tracker({ deviceId, key, mqttUrl: broker.url, ackKey: cw.ackKey, mqttPassword });
    await tracker.waitConnected();
    const send = async (fixes: Fix[]) => {
      for (let i = 0; i < fixes.length; i += 4) tracker!.send(fixes.slice(i, i + 4));
      expect(await tracker!.waitAllAcked(60_000)).toBe(true);
    };
    const status = async () =>
      (await cw.api('GET', '/v1/shipments/shp-arrival', { role: 'logistics' })).body.status as string;

    const start = Date.now() - 30 * HOUR;
    // Arrival: three fixes standing at the quay over two hours.
    await send(noisy([0, 1, 2].map((h) => ({ ts: start + h * HOUR, lat: 16.08, lon: 108.23, speedKmh: 0 }))));
    expect(await status()).toBe('arrived');

    // Then it sails from Da Nang for Sanya at 35 km/h, hour after hour, until well inside China.
    const from = { lat: 16.08, lon: 108.23 };
    const course = initialBearingDeg(from, SANYA);
    const leaving: Fix[] = [];
    for (let h = 1; h <= 12; h++) {
      const p = destinationPoint(from, course, 35 * h);
      leaving.push({ ts: start + (2 + h) * HOUR, lat: p.lat, lon: p.lon, speedKmh: 35 });
    }
    await send(noisy(leaving));
    expect(await status()).toBe('in_transit');

    const list = (await cw.api('GET', '/v1/alerts?shipmentId=shp-arrival', { role: 'compliance' })).body
      .items as { type: string; firstEvidenceAt: string; details: Record<string, unknown> }[];
    const first = (type: string) => {
      const a = list.find((x) => x.type === type);
      return a ? Date.parse(a.firstEvidenceAt) : undefined;
    };
    expect(list.map((a) => a.type)).toEqual(
      expect.arrayContaining(['ROUTE_DEVIATION', 'DIVERSION_TOWARD_RESTRICTED', 'RESTRICTED_ZONE_ENTERED']),
    );
    const diversion = list.find((a) => a.type === 'DIVERSION_TOWARD_RESTRICTED')!;
    expect(diversion.details.country).toBe('CN');
    expect(list.find((a) => a.type === 'RESTRICTED_ZONE_ENTERED')!.details.country).toBe('CN');
    // Warned before the entry.
    expect(first('DIVERSION_TOWARD_RESTRICTED')!).toBeLessThan(first('RESTRICTED_ZONE_ENTERED')!);
  });
});
