// Every telemetry check driven by sequences of fixes over real geography, no database: fires when it should,
// stays silent when it should not, debounces, clears.
import { describe, expect, it } from 'vitest';
import type { CheckParams, Fix } from '../../../src/checks/types.ts';
import { destinationPoint, initialBearingDeg } from '../../../src/geo/spherical.ts';
import { context, feed, leg } from '../../helpers/geo.ts';

const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);
const MIN = 60_000;
// Open Indian Ocean, far from any land: a plain great-circle lane for the corridor checks.
const A = { lat: -20, lon: 70, radiusKm: 25 };
const B = { lat: -20, lon: 100, radiusKm: 25 };
const lane = (params: Partial<CheckParams> = {}) =>
  context({
    params,
    mode: 'sea',
    origin: A,
    destination: B,
    route: [
      [A.lon, A.lat],
      [B.lon, B.lat],
    ],
    corridorKm: 50,
  });
const course = initialBearingDeg(A, B);

/** On-lane fixes every 30 min from 200 km after A. */
function onLane(n: number, fromTs = T0) {
  const start = destinationPoint(A, course, 200);
  return leg({ ...start, ts: fromTs }, initialBearingDeg(start, B), 35, n, 30);
}
const abeam = (f: Fix, km: number, ts = f.ts): Fix => ({
  ...f,
  ...destinationPoint(f, initialBearingDeg(f, B) + 90, km),
  ts,
});

describe('ROUTE_DEVIATION', () => {
  // These fixes step 80 km sideways in 30 minutes, faster than a ship: the speed limit is lifted so that the
  // deviation, not the impossible jump, is what is tested.
  const fast = () => lane({ maxSpeedKmh: 1000 });

  it('raises only after 3 fixes outside the corridor spanning at least 15 minutes', () => {
    const base = onLane(6);
    const fixes = [...base.slice(0, 3), ...base.slice(3).map((f) => abeam(f, 80))];
    const r = feed(fast(), fixes);
    expect(r.raised('ROUTE_DEVIATION').map((e) => e.fixIndex)).toEqual([5]);
    expect(r.raised('ROUTE_DEVIATION')[0]!.details).toMatchObject({ corridorKm: 50, fixesOutside: 3 });
  });

  it('stays silent for 2 fixes outside, and for one noisy fix between good ones', () => {
    const base = onLane(8);
    const twoOut = [...base.slice(0, 4), abeam(base[4]!, 80), abeam(base[5]!, 80), base[6]!, base[7]!];
    expect(feed(fast(), twoOut).raised('ROUTE_DEVIATION')).toEqual([]);
    const noisy = base.map((f, i) => (i === 3 ? abeam(f, 120) : f));
    expect(feed(fast(), noisy).raised('ROUTE_DEVIATION')).toEqual([]);
  });

  it('needs the condition held 15 minutes: 3 fixes a minute apart are not enough', () => {
    const base = onLane(3);
    const last = base[2]!;
    const quick = [1, 2, 3].map((i) => abeam({ ...last, ts: last.ts + i * MIN }, 80));
    expect(feed(fast(), [...base, ...quick]).raised('ROUTE_DEVIATION')).toEqual([]);
  });

  it('resolves itself once back inside the corridor for 30 minutes', () => {
    const base = onLane(10);
    const fixes = base.map((f, i) => (i >= 2 && i <= 5 ? abeam(f, 80) : f));
    const r = feed(fast(), fixes);
    expect(r.raised('ROUTE_DEVIATION').length).toBeGreaterThan(0);
    const resolved = r.events.filter((e) => e.type === 'ROUTE_DEVIATION' && e.action === 'resolve');
    expect(resolved.map((e) => e.fixIndex)).toEqual([7]);
  });
});

describe('RESTRICTED_ZONE_ENTERED', () => {
  const air = (route: [number, number][], extra = {}) =>
    context({
      mode: 'air',
      origin: { lat: route[0]![1], lon: route[0]![0], radiusKm: 30 },
      destination: { lat: route.at(-1)![1], lon: route.at(-1)![0], radiusKm: 30 },
      route,
      ...extra,
    });

  it('fires for a fix inside a restricted country', () => {
    const ctx = air([
      [116.4, 39.9],
      [121.5, 31.2],
    ]);
    const r = feed(ctx, [{ ts: T0, lat: 39.9, lon: 116.4 }]);
    expect(r.raised('RESTRICTED_ZONE_ENTERED')[0]!.details).toMatchObject({
      country: 'CN',
      tier: 'restricted',
      via: 'fix',
    });
  });

  it('fires when the segment between two fixes crosses a restricted country though neither fix lies in it', () => {
    // Almaty (KZ) to Ulaanbaatar (MN): both licence-required, on the corridor; China lies between them.
    const ctx = air([
      [76.89, 43.24],
      [106.9, 47.9],
    ]);
    const r = feed(ctx, [
      { ts: T0, lat: 43.24, lon: 76.89 },
      { ts: T0 + 180 * MIN, lat: 47.9, lon: 106.9 },
    ]);
    const hits = r.raised('RESTRICTED_ZONE_ENTERED');
    expect(hits.map((e) => [e.details.country, e.details.via])).toEqual([['CN', 'segment']]);
  });

  it('fires for a late fix inside the zone, even after newer fixes', () => {
    const ctx = air([
      [116.4, 39.9],
      [37.6, 55.75],
    ]);
    const r = feed(ctx, [
      { ts: T0 + 60 * MIN, lat: 47.9, lon: 106.9 },
      { ts: T0, lat: 39.9, lon: 116.4 },
    ]);
    expect(r.raised('RESTRICTED_ZONE_ENTERED').map((e) => e.fixIndex)).toContain(1);
  });

  it('lets a licence-required country pass on the planned corridor, alerts off it, and honours a licence', () => {
    // Dubai (AE: licence-required) as a leg of the planned route.
    const route: [number, number][] = [
      [51.5, 25.3],
      [55.3, 25.25],
      [58.4, 23.6],
    ];
    const dubai = { ts: T0, lat: 25.25, lon: 55.3 };
    expect(feed(air(route), [dubai]).raised('RESTRICTED_ZONE_ENTERED')).toEqual([]);
    const inland = { ts: T0, lat: 24.2, lon: 55.7 }; // Al Ain, ~100 km off the route
    expect(feed(air(route), [inland]).raised('RESTRICTED_ZONE_ENTERED')[0]!.details.country).toBe('AE');
    expect(feed(air(route, { licensed: ['AE'] }), [inland]).raised('RESTRICTED_ZONE_ENTERED')).toEqual([]);
  });

  it("uses the shipment's own restricted list instead of the policy's", () => {
    const ctx = air(
      [
        [31.2, 30.0],
        [39.2, 21.5],
      ],
      { restrictedCountries: ['EG'] },
    );
    expect(
      feed(ctx, [{ ts: T0, lat: 30.0, lon: 31.2 }]).raised('RESTRICTED_ZONE_ENTERED')[0]!.details.country,
    ).toBe('EG');
  });
});

describe('DIVERSION_TOWARD_RESTRICTED', () => {
  // A Bay of Bengal lane, north of Aceh to Colombo; Myanmar (restricted) lies to the north-east.
  const from = { lat: 5.8, lon: 94.5, radiusKm: 25 };
  const to = { lat: 6.9, lon: 79.9, radiusKm: 25 };
  const bay = () =>
    context({
      mode: 'sea',
      origin: from,
      destination: to,
      route: [
        [from.lon, from.lat],
        [to.lon, to.lat],
      ],
      corridorKm: 50,
    });

  it('fires before the ship enters Myanmar when it turns off the lane and holds course toward it', () => {
    const onLaneFixes = leg({ ...from, ts: T0 }, initialBearingDeg(from, to), 35, 6, 60);
    const turn = onLaneFixes.at(-1)!;
    const toward = leg(turn, initialBearingDeg(turn, { lat: 16.3, lon: 94.3 }), 35, 40, 60);
    const r = feed(bay(), [...onLaneFixes, ...toward]);
    const deviation = r.raised('ROUTE_DEVIATION')[0]?.fixIndex;
    const diversion = r.raised('DIVERSION_TOWARD_RESTRICTED')[0]?.fixIndex;
    const entered = r.raised('RESTRICTED_ZONE_ENTERED')[0]?.fixIndex;
    expect(deviation).toBeDefined();
    expect(diversion).toBeDefined();
    expect(entered).toBeDefined();
    expect(deviation!).toBeLessThanOrEqual(diversion!);
    expect(diversion!).toBeLessThan(entered!);
    expect(r.raised('DIVERSION_TOWARD_RESTRICTED')[0]!.details.zoneId).toBe('MM');
  });

  it('stays silent for a ship on its planned lane close to a restricted coast (Taiwan Strait)', () => {
    const s = { lat: 22.3, lon: 119.9, radiusKm: 25 };
    const e = { lat: 25.6, lon: 120.6, radiusKm: 25 };
    const ctx = context({
      mode: 'sea',
      origin: s,
      destination: e,
      route: [
        [s.lon, s.lat],
        [e.lon, e.lat],
      ],
      corridorKm: 30,
    });
    const fixes = leg({ ...s, ts: T0 }, initialBearingDeg(s, e), 30, 12, 60).map((f, i) => ({
      ...f,
      headingDeg: (i * 137) % 360,
    }));
    const r = feed(ctx, fixes);
    expect(r.events.filter((x) => x.action === 'raise')).toEqual([]);
  });

  it('stays silent for a ship off the lane that steers away from every restricted zone', () => {
    const onLaneFixes = leg({ ...from, ts: T0 }, initialBearingDeg(from, to), 35, 4, 60);
    const turn = onLaneFixes.at(-1)!;
    const south = leg(turn, 190, 35, 10, 60);
    const r = feed(bay(), [...onLaneFixes, ...south]);
    expect(r.raised('ROUTE_DEVIATION').length).toBeGreaterThan(0);
    expect(r.raised('DIVERSION_TOWARD_RESTRICTED')).toEqual([]);
  });
});

describe('UNPLANNED_STOP and DESTINATION_MISMATCH', () => {
  const sg = { lat: 1.29, lon: 103.85, radiusKm: 20 };
  const bkk = { lat: 13.75, lon: 100.5, radiusKm: 20 };
  const truck = () =>
    context({
      mode: 'road',
      origin: sg,
      destination: bkk,
      route: [
        [103.85, 1.29],
        [101.39, 3.0],
        [101.69, 3.14],
        [100.5, 13.75],
      ],
      reportIntervalS: 900,
    });
  const parked = (p: { lat: number; lon: number }, fromTs: number, hours: number): Fix[] =>
    Array.from({ length: hours * 2 + 1 }, (_, i) => ({
      ts: fromTs + i * 30 * MIN,
      lat: p.lat + ((i % 3) - 1) * 0.0005,
      lon: p.lon,
      speedKmh: 0,
    }));

  it('fires after 2 hours stopped in a transshipment hub (Port Klang free-trade zone, Malaysia)', () => {
    const r = feed(truck(), parked({ lat: 3.0, lon: 101.39 }, T0, 8));
    const stop = r.raised('UNPLANNED_STOP');
    expect(stop).toHaveLength(1);
    expect(stop[0]!.fixIndex).toBe(4);
    expect(stop[0]!.details).toMatchObject({ country: 'MY', thresholdMinutes: 120 });
  });

  it('tolerates the same 8-hour stop outside a hub (a driver rests), at the origin, and at a planned stop', () => {
    const nl = { lat: 52.1, lon: 5.1, radiusKm: 20 };
    const ctxNl = context({
      mode: 'road',
      origin: { lat: 51.9, lon: 4.4, radiusKm: 20 },
      destination: { lat: 52.4, lon: 13.4, radiusKm: 20 },
      route: [
        [4.4, 51.9],
        [5.1, 52.1],
        [13.4, 52.4],
      ],
    });
    expect(feed(ctxNl, parked(nl, T0, 8)).raised('UNPLANNED_STOP')).toEqual([]);
    expect(feed(truck(), parked(sg, T0, 8)).raised('UNPLANNED_STOP')).toEqual([]);
    const withStop = context({
      mode: 'road',
      origin: sg,
      destination: bkk,
      route: [
        [103.85, 1.29],
        [101.39, 3.0],
        [100.5, 13.75],
      ],
      plannedStops: [{ name: 'Port Klang', lat: 3.0, lon: 101.39, radiusKm: 10 }],
    });
    expect(feed(withStop, parked({ lat: 3.0, lon: 101.39 }, T0, 8)).raised('UNPLANNED_STOP')).toEqual([]);
  });

  it('raises DESTINATION_MISMATCH when a ship stays a week away from its destination, UNPLANNED_STOP after a day', () => {
    const r = feed(lane(), parked({ lat: -20.5, lon: 80 }, T0, 7 * 24 + 2));
    expect(r.raised('UNPLANNED_STOP').map((e) => e.fixIndex)).toEqual([48]);
    expect(r.raised('DESTINATION_MISMATCH').map((e) => e.fixIndex)).toEqual([7 * 24 * 2]);
    expect(r.raised('DESTINATION_MISMATCH')[0]!.details).toMatchObject({ thresholdHours: 168 });
  });

  it('raises DESTINATION_MISMATCH for a truck after 48 hours', () => {
    const r = feed(truck(), parked({ lat: 8.0, lon: 100.3 }, T0, 50));
    expect(r.raised('DESTINATION_MISMATCH').map((e) => e.fixIndex)).toEqual([96]);
  });

  it('moves the shipment to arrived once it stops inside the destination radius (earlier expectation: one fix inside was an arrival)', () => {
    const near = destinationPoint(B, 270, 60);
    const approach = leg({ ...near, ts: T0 }, 90, 35, 3, 30);
    const at = approach.at(-1)!;
    const passing = feed(lane(), approach);
    expect(passing.status).toBe('in_transit');
    const r = feed(lane(), [...approach, { ...at, ts: at.ts + 30 * MIN, speedKmh: 0 }]);
    expect(r.status).toBe('arrived');
  });
});

describe('gaps, tamper, spoofing', () => {
  it('raises GAP_WITH_DISPLACEMENT for a tracker dark 10 hours that reappears 500 km off the route', () => {
    const base = onLane(3);
    const last = base.at(-1)!;
    const back = abeam({ ...last, ts: last.ts + 10 * 60 * MIN }, 500);
    const r = feed(lane(), [...base, back]);
    const gap = r.raised('GAP_WITH_DISPLACEMENT')[0]!.details;
    expect(gap).toMatchObject({ gapHours: 10, movedKm: 500, reason: 'reappeared off the planned route' });
    expect(gap.crossTrackKm as number).toBeGreaterThan(450);
    expect(r.events.some((e) => e.type === 'SIGNAL_LOST' && e.action === 'resolve')).toBe(true);
  });

  it('does not raise it when the tracker reappears on the route where the elapsed time puts it', () => {
    const fixes = onLane(30).filter((_, i) => i < 3 || i >= 23);
    expect(feed(lane(), fixes).raised('GAP_WITH_DISPLACEMENT')).toEqual([]);
  });

  it('raises TAMPER for the tamper switch or light in the case, but not at the destination', () => {
    const [a, b] = onLane(2);
    expect(feed(lane(), [{ ...a!, tamper: true }]).raised('TAMPER')[0]!.details.reason).toBe('tamper switch');
    expect(feed(lane(), [{ ...b!, lightLux: 300 }]).raised('TAMPER')).toHaveLength(1);
    expect(feed(lane(), [{ ...b!, lightLux: 5 }]).raised('TAMPER')).toEqual([]);
    expect(feed(lane(), [{ ts: T0, lat: B.lat, lon: B.lon, lightLux: 800 }]).raised('TAMPER')).toEqual([]);
  });

  it('flags and alerts an impossible speed (teleport), keeping the fix', () => {
    const base = onLane(3);
    const jump = abeam({ ...base[2]!, ts: base[2]!.ts + 30 * MIN }, 400);
    const r = feed(lane(), [...base, jump]);
    expect(r.flags[3]).toContain('SPEED_IMPOSSIBLE');
    expect(r.raised('SPOOFING_SUSPECTED')[0]!.details).toMatchObject({ maxSpeedKmh: 60 });
  });

  it('flags a frozen track (identical coordinates while moving) and impossible satellite figures', () => {
    const f = onLane(1)[0]!;
    const frozen = Array.from({ length: 6 }, (_, i) => ({ ...f, ts: f.ts + i * 30 * MIN, speedKmh: 30 }));
    const r = feed(lane(), frozen);
    expect(r.flags[4]).toContain('FROZEN_TRACK');
    expect(r.flags[3]).toEqual([]);
    expect(feed(lane(), [{ ...f, satellites: 1 }]).flags[0]).toContain('GNSS_IMPOSSIBLE');
  });

  it('stays silent for ordinary GNSS noise on the lane', () => {
    const noisy = onLane(20).map((f, i) => ({ ...f, ...destinationPoint(f, (i * 97) % 360, 0.02) }));
    expect(feed(lane(), noisy).events.filter((e) => e.action === 'raise')).toEqual([]);
  });
});

describe('thresholds', () => {
  it('lets a shipment override the global CHECK_PARAMS, which override the mode defaults', async () => {
    const { shipmentContext } = await import('../../../src/checks/context.ts');
    const { geo } = await import('../../helpers/geo.ts');
    const g = geo();
    const base = {
      id: 's',
      reference: null,
      deviceId: 'd',
      mode: 'road' as const,
      origin: A,
      destination: B,
      route: {
        legs: [
          {
            mode: 'road' as const,
            coordinates: [
              [A.lon, A.lat],
              [B.lon, B.lat],
            ] as [number, number][],
          },
        ],
        lengthKm: 3000,
      },
      corridorKm: 50,
      reportIntervalS: 300,
      chips: [],
      restrictedCountries: null,
      licenses: [],
      plannedStops: [],
      status: 'planned' as const,
      checkState: {},
      lastFix: null,
      progressKm: null,
      createdAt: '',
      startedAt: null,
      arrivedAt: null,
      installedAt: null,
    };
    const global = { stopMinutesWatch: 90, stopMinutes: 300 };
    const p1 = shipmentContext({ ...base, id: 's1', params: {} }, g.policy, g.zones(), global).params;
    expect([p1.stopMinutesWatch, p1.stopMinutes, p1.maxSpeedKmh]).toEqual([90, 300, 160]);
    const p2 = shipmentContext(
      { ...base, id: 's2', params: { stopMinutesWatch: 30 } },
      g.policy,
      g.zones(),
      global,
    ).params;
    expect(p2.stopMinutesWatch).toBe(30);
  });
});
