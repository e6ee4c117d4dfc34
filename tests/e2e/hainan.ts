// The browser tests' voyage: a ship on its lane from Kaohsiung for Rotterdam, then turning for Sanya on Hainan
// (China), every fix in the past; and the tracker that signs and sends it.
import { expect } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import type { Fix } from '../../src/checks/types.ts';
import { buildPlannedRoute } from '../../src/geo/routes.ts';
import { destinationPoint, haversineKm, initialBearingDeg } from '../../src/geo/spherical.ts';
import type { TestChipwatch } from '../helpers/chipwatch.ts';
import { alongRoute } from '../helpers/geo.ts';

export const HOUR = 3_600_000;
export const KAOHSIUNG = { name: 'Kaohsiung', lat: 22.61, lon: 120.27, radiusKm: 25 };
export const ROTTERDAM = { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 30 };

export function hainanScenario() {
  const route = buildPlannedRoute({ mode: 'sea', origin: KAOHSIUNG, destination: ROTTERDAM });
  const voyage = alongRoute(route.legs[0]!.coordinates, 35, 60, 0);
  const turnAt = voyage.findIndex((f) => f.lat < 18.5 && f.lon < 117);
  const turn = voyage[turnAt]!;
  const sanya = { lat: 18.6, lon: 109.6 };
  const diverted: Fix[] = [];
  for (let i = 1; i <= Math.ceil(haversineKm(turn, sanya) / 35) + 1; i++) {
    const p = destinationPoint(turn, initialBearingDeg(turn, sanya), 35 * i);
    diverted.push({ ts: turn.ts + i * HOUR, lat: p.lat, lon: p.lon, speedKmh: 35, satellites: 9, hdop: 0.9 });
  }
  const all = [...voyage.slice(0, turnAt + 1), ...diverted];
  const shift = Date.now() - HOUR - all.at(-1)!.ts;
  const shifted = all.map((f) => ({ ...f, ts: f.ts + shift }));
  return { onLane: shifted.slice(0, turnAt + 1), diverted: shifted.slice(turnAt + 1) };
}

/** Registers the tracker and the shipment; returns a sender of fixes that waits for their acks. */
export async function registerVoyage(
  cw: TestChipwatch,
  mqttUrl: string,
  shipmentId: string,
  extra: Record<string, unknown> = {},
) {
  const key = generateDeviceKey();
  const deviceId = `trk-${shipmentId}`;
  const dev = await cw.api('POST', '/v1/devices', { body: { id: deviceId, publicKeyJwk: key.publicJwk } });
  expect(dev.status, JSON.stringify(dev.body)).toBe(201);
  const res = await cw.api('POST', '/v1/shipments', {
    role: 'logistics',
    body: {
      id: shipmentId,
      reference: 'AWB 176-12345675',
      customer: 'Acme AI Labs',
      deviceId,
      mode: 'sea',
      origin: KAOHSIUNG,
      destination: ROTTERDAM,
      corridorKm: 50,
      reportIntervalS: 3600,
      chips: ['GPU-0001', 'GPU-0002'],
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const tracker = new Tracker({
    deviceId,
    key,
    mqttUrl,
    ackKey: cw.ackKey,
    mqttPassword: dev.body.mqttPassword,
  });
  await tracker.waitConnected();
  const send = async (fixes: Fix[]) => {
    for (let i = 0; i < fixes.length; i += 6) tracker.send(fixes.slice(i, i + 6));
    expect(await tracker.waitAllAcked(60_000)).toBe(true);
  };
  return { tracker, send };
}
