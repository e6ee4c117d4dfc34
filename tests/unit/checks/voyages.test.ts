// The checks against what lawful voyages and real diversions look like (issue 14): spoofed fixes that drive
// nothing, jet-stream speeds, overflight at cruise against a descent, a course that reaches its destination first,
// arrival by dwell, a mismatch that resolves when the ship moves on, and tracks too regular for real GNSS.
import { describe, expect, it } from 'vitest';
import { restrictedCrossings } from '../../../src/checks/crossings.ts';
import type { Fix } from '../../../src/checks/types.ts';
import { buildPlannedRoute } from '../../../src/geo/routes.ts';
import { destinationPoint, initialBearingDeg } from '../../../src/geo/spherical.ts';
import { alongRoute, context, feed, geo, leg } from '../../helpers/geo.ts';

const T0 = Date.UTC(2026, 0, 10);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Real GNSS: metres of noise, hdop and satellites that vary. */
const noisy = (fixes: Fix[]): Fix[] =>
  fixes.map((f, i) => ({
    ...f,
    ...destinationPoint(f, (i * 137) % 360, 0.003 + (i % 5) * 0.002),
    hdop: 0.7 + (i % 5) * 0.1,
    satellites: 7 + (i % 5),
  }));

describe('spoofed fixes (eastern Baltic: receivers pinned to a point in Russia)', () => {
  const gdansk = { lat: 54.4, lon: 18.67, radiusKm: 10 };
  const helsinki = { lat: 60.15, lon: 24.95, radiusKm: 10 };
  const ctx = () =>
    context({
      mode: 'sea',
      origin: gdansk,
      destination: helsinki,
      route: [
        [18.67, 54.4],
        [19.5, 55.5],
        [20.5, 57.5],
        [22.0, 59.3],
        [24.95, 60.15],
      ],
      reportIntervalS: 3600,
    });
  const start = { lat: 55.6, lon: 19.55, ts: T0 };
  const course = initialBearingDeg(start, { lat: 57.5, lon: 20.5 });
  const track = noisy(leg(start, course, 33, 12, 60));
  const kaliningrad = { lat: 54.89, lon: 20.59 };

  it('raises SPOOFING_SUSPECTED naming Russia, and no entry, diversion or deviation, when the track resumes on its lane', () => {
    const spoofed = track.map((f, i) =>
      i >= 4 && i < 9 ? { ...f, ...destinationPoint(kaliningrad, i * 40, 0.05), speedKmh: 0 } : f,
    );
    const r = feed(ctx(), spoofed);
    expect(
      r.flags.slice(4, 9).every((f) => f.includes('SPEED_IMPOSSIBLE') || f.includes('SPOOF_PINNED')),
    ).toBe(true);
    expect([...new Set(r.events.filter((e) => e.action === 'raise').map((e) => e.type))]).toEqual([
      'SPOOFING_SUSPECTED',
    ]);
    const last = r.raised('SPOOFING_SUSPECTED').at(-1)!.details;
    expect(last).toMatchObject({ country: 'RU', runFixes: 5, drivesChecks: false });
    expect(r.flags[9]).toEqual([]);
  });

  it('takes a track that moves on consistently from a new place as real after 3 fixes, with GAP_WITH_DISPLACEMENT', () => {
    const head = track.slice(0, 3);
    const last = head.at(-1)!;
    // Reappears 10 hours later 900 km away (flown?): unreachable for a ship, then sails on from there.
    const far = destinationPoint(last, 250, 900);
    const after = noisy(leg({ ...far, ts: last.ts + 10 * HOUR }, 250, 33, 5, 60));
    const r = feed(ctx(), [...head, { ...far, ts: last.ts + 10 * HOUR, speedKmh: 33 }, ...after]);
    expect(r.flags[3]).toContain('SPEED_IMPOSSIBLE');
    expect(r.flags[5]).toContain('TRACK_RESUMED_ELSEWHERE');
    expect(r.raised('GAP_WITH_DISPLACEMENT')[0]!.details).toMatchObject({
      reason: 'farther than the top speed allows',
    });
  });
});

describe('aircraft', () => {
  const almaty = { lat: 43.35, lon: 77.04, radiusKm: 5 };
  const ulaanbaatar = { lat: 47.65, lon: 106.82, radiusKm: 5 };
  const ctx = () => context({ mode: 'air', origin: almaty, destination: ulaanbaatar, reportIntervalS: 300 });
  // 12 fixes 5 minutes apart on the great circle, from the first one over China.
  const overChina = () => {
    const route = buildPlannedRoute({ mode: 'air', origin: almaty, destination: ulaanbaatar });
    const all = alongRoute(route.legs[0]!.coordinates, 880, 5, T0);
    const first = all.findIndex((f) => geo().zones().countryAt(f) === 'CN');
    return noisy(all.slice(first - 2, first + 10)).map((f) => ({ ...f, altM: 10_700 }));
  };

  it('is silent at cruise on its corridor over a restricted country, flagging the fixes RESTRICTED_OVERFLIGHT', () => {
    const r = feed(ctx(), overChina());
    expect(r.events.filter((e) => e.action === 'raise')).toEqual([]);
    expect(r.flags.some((f) => f.includes('RESTRICTED_OVERFLIGHT'))).toBe(true);
  });

  it('raises RESTRICTED_ZONE_ENTERED at once when it descends or slows over that country', () => {
    const fixes = overChina();
    const descending = fixes.map((f, i) => (i >= 8 ? { ...f, altM: 10_700 - (i - 7) * 2000 } : f));
    const r = feed(ctx(), descending);
    const entered = r.raised('RESTRICTED_ZONE_ENTERED');
    expect(entered[0]!.fixIndex).toBe(8);
    expect(entered[0]!.details).toMatchObject({ country: 'CN', reason: 'descending' });
    const slow = fixes.map((f, i) => (i === 6 ? { ...f, speedKmh: 320 } : f));
    expect(feed(ctx(), slow).raised('RESTRICTED_ZONE_ENTERED')[0]!.details.reason).toBe(
      'slowed below cruise',
    );
  });

  it('takes jet-stream ground speeds of 1,300 km/h as real', () => {
    const jfk = { lat: 40.64, lon: -73.78, radiusKm: 5 };
    const lhr = { lat: 51.47, lon: -0.45, radiusKm: 5 };
    const c = context({ mode: 'air', origin: jfk, destination: lhr, reportIntervalS: 300 });
    const fixes = noisy(leg({ ...jfk, ts: T0 }, initialBearingDeg(jfk, lhr), 1300, 30, 5));
    expect(feed(c, fixes).raised('SPOOFING_SUSPECTED')).toEqual([]);
  });

  it('lists the restricted countries a planned route crosses, for the warning at registration', () => {
    const g = geo();
    const route = buildPlannedRoute({ mode: 'air', origin: almaty, destination: ulaanbaatar });
    const c = ctx();
    const crossings = restrictedCrossings(route, g.zones(), c);
    expect(crossings.map((x) => x.country)).toContain('CN');
    const cn = crossings.find((x) => x.country === 'CN')!;
    expect(cn.toKm).toBeGreaterThan(cn.fromKm);
  });
});

describe('DIVERSION_TOWARD_RESTRICTED knows the destination', () => {
  it('stays silent for a truck off its corridor heading for its destination with Russia just beyond it (Narva)', () => {
    const tallinn = { lat: 59.437, lon: 24.754, radiusKm: 5 };
    const narva = { lat: 59.375, lon: 28.16, radiusKm: 3 };
    const c = context({
      mode: 'road',
      origin: tallinn,
      destination: narva,
      route: [
        [24.754, 59.437],
        [25.6, 59.1],
        [27.4, 59.15],
        [28.16, 59.375],
      ],
      corridorKm: 10,
      reportIntervalS: 300,
    });
    const from = { lat: 59.42, lon: 25.3, ts: T0 };
    const fixes = noisy(leg(from, initialBearingDeg(from, narva), 70, 20, 5));
    const r = feed(c, fixes);
    expect(r.raised('ROUTE_DEVIATION').length).toBeGreaterThan(0);
    expect(r.raised('DIVERSION_TOWARD_RESTRICTED')).toEqual([]);
  });
});

describe('arrival and DESTINATION_MISMATCH', () => {
  const a = { lat: -20, lon: 70, radiusKm: 15 };
  const b = { lat: -20, lon: 100, radiusKm: 15 };
  const lane = () =>
    context({
      mode: 'sea',
      origin: a,
      destination: b,
      route: [
        [70, -20],
        [100, -20],
      ],
      reportIntervalS: 3600,
    });

  it('resolves DESTINATION_MISMATCH when the ship moves on toward its destination after a week at anchor', () => {
    const anchor = { lat: -20.05, lon: 90 };
    const swing = Array.from({ length: 7 * 24 + 6 }, (_, i) => ({
      ts: T0 + i * HOUR,
      ...destinationPoint(anchor, i * 30, 0.4),
      speedKmh: 0,
      hdop: 0.8 + (i % 3) * 0.1,
      satellites: 9 + (i % 3),
    }));
    const last = swing.at(-1)!;
    const onward = noisy(leg({ ...last }, initialBearingDeg(last, b), 35, 6, 60));
    const r = feed(lane(), [...swing, ...onward]);
    expect(r.raised('UNPLANNED_STOP')).toHaveLength(1);
    expect(r.raised('DESTINATION_MISMATCH')).toHaveLength(1);
    const resolved = r.events.filter((e) => e.type === 'DESTINATION_MISMATCH' && e.action === 'resolve');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.fixIndex).toBeGreaterThan(swing.length - 1);
  });

  it('does not arrive on a pass-by, and an arrived shipment that leaves again is back in transit', () => {
    const by = noisy(leg({ ...destinationPoint(b, 268, 80), ts: T0 }, 90, 35, 6, 60));
    const passing = feed(lane(), by);
    expect(passing.status).toBe('in_transit');
    const stay = Array.from({ length: 3 }, (_, i) => ({ ts: T0 + i * HOUR, lat: b.lat, lon: b.lon + 0.01 }));
    const arrived = feed(lane(), stay);
    expect(arrived.status).toBe('arrived');
    const away = leg({ ...stay.at(-1)!, lon: b.lon + 0.01 }, 90, 35, 3, 60);
    expect(feed(lane(), away, { state: arrived.state, status: 'arrived' }).status).toBe('in_transit');
  });
});

describe('too-regular tracks', () => {
  const a = { lat: -20, lon: 70, radiusKm: 15 };
  const b = { lat: -20, lon: 100, radiusKm: 15 };
  const lane = () =>
    context({
      mode: 'sea',
      origin: a,
      destination: b,
      route: [
        [70, -20],
        [100, -20],
      ],
    });
  const start = { ...destinationPoint(a, 90, 100), ts: T0 };

  it('raises SPOOFING_SUSPECTED (too_regular) after 20 noise-free fixes with constant speed, hdop and satellites', () => {
    const r = feed(lane(), leg(start, initialBearingDeg(start, b), 35, 25, 30));
    const spoof = r.raised('SPOOFING_SUSPECTED');
    expect(spoof).toHaveLength(1);
    expect(spoof[0]!.fixIndex).toBe(20);
    expect(spoof[0]!.details).toMatchObject({ subtype: 'too_regular', hdopSpread: 0, satellitesSpread: 0 });
  });

  it('stays silent for real GNSS: metres of noise, varying hdop and satellites', () => {
    const r = feed(lane(), noisy(leg(start, initialBearingDeg(start, b), 35, 40, 30)));
    expect(r.raised('SPOOFING_SUSPECTED')).toEqual([]);
  });
});
