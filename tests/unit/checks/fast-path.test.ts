// The shortcuts that make the checks cheap per fix (a clear box around the track, border distances measured only
// when the approach test needs them, the look-ahead's first step answered by the zone check) change no answer: over
// long diverted voyages, fed fix by fix with the state stored as JSON in between as the ingest does, the same events
// in the same order, the same flags and statuses as the plain evaluation.
import { describe, expect, it } from 'vitest';
import { initialShipmentState, runShipmentChecks, type ShipmentState } from '../../../src/checks/run.ts';
import type { Fix, ShipmentContext } from '../../../src/checks/types.ts';
import { buildPlannedRoute } from '../../../src/geo/routes.ts';
import { destinationPoint } from '../../../src/geo/spherical.ts';
import { alongRoute, context } from '../../helpers/geo.ts';

const HOUR = 3_600_000;

function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Every batch's events, flags and status, with the state going through JSON between batches. */
function play(ctx: ShipmentContext, fixes: Fix[], full: boolean) {
  let state: ShipmentState = initialShipmentState();
  let status: Parameters<typeof runShipmentChecks>[1] = 'planned';
  const out: unknown[] = [];
  for (let i = 0; i < fixes.length; ) {
    const n = 1 + (i % 3 === 0 ? 1 : 0); // batches of one and two fixes
    const run = runShipmentChecks(state, status, fixes.slice(i, i + n), ctx, { full });
    state = JSON.parse(JSON.stringify(run.state));
    status = run.status;
    out.push({ events: run.events, flags: [...run.flags], status });
    i += n;
  }
  return out;
}

describe('fast path against the plain evaluation', () => {
  const kaohsiung = { name: 'Kaohsiung', lat: 22.61, lon: 120.27, radiusKm: 25 };
  const rotterdam = { name: 'Rotterdam', lat: 51.9, lon: 4.4, radiusKm: 30 };
  const route = buildPlannedRoute({ mode: 'sea', origin: kaohsiung, destination: rotterdam });
  const ctx = context({
    mode: 'sea',
    origin: kaohsiung,
    destination: rotterdam,
    route: route.legs[0]!.coordinates,
    corridorKm: 50,
    reportIntervalS: 3600,
  });
  const voyage = alongRoute(route.legs[0]!.coordinates, 35, 60, Date.UTC(2026, 9, 1));

  it('gives the same alerts, in the same order, over long diverted voyages', () => {
    const random = seeded(11);
    let events = 0;
    for (let k = 0; k < 6; k++) {
      // Leave the lane somewhere, then wander for 80 hours: a held course (k even) or a meandering one.
      const turnAt = Math.floor(random() * voyage.length * 0.8);
      const turn = voyage[turnAt]!;
      let bearing = random() * 360;
      let p = { lat: turn.lat, lon: turn.lon };
      const wander: Fix[] = [];
      for (let i = 1; i <= 80; i++) {
        bearing += (random() - 0.5) * (k % 2 ? 60 : 8);
        p = destinationPoint(p, bearing, 20 + 20 * random());
        wander.push({ ts: turn.ts + i * HOUR, lat: p.lat, lon: p.lon, speedKmh: 35 });
      }
      const fixes = [...voyage.slice(0, turnAt + 1), ...wander];
      const fast = play(ctx, fixes, false);
      expect(fast).toEqual(play(ctx, fixes, true));
      events += fast.reduce((sum: number, r) => sum + (r as { events: unknown[] }).events.length, 0);
    }
    // The voyages do raise alerts (deviation, diversion, entries): the comparison is not of empty lists.
    expect(events).toBeGreaterThan(100);
  });

  it('gives the same alerts as the plain evaluation on the diversion toward Hainan', () => {
    const turnAt = voyage.findIndex((f) => f.lat < 18.5 && f.lon < 117);
    const turn = voyage[turnAt]!;
    const diverted = Array.from({ length: 60 }, (_, i) => {
      const q = destinationPoint(turn, 265, 35 * (i + 1));
      return { ts: turn.ts + (i + 1) * HOUR, lat: q.lat, lon: q.lon, speedKmh: 35 };
    });
    const fixes = [...voyage.slice(0, turnAt + 1), ...diverted];
    const fast = play(ctx, fixes, false);
    expect(fast).toEqual(play(ctx, fixes, true));
    const types = fast.flatMap((r) => (r as { events: { type: string }[] }).events.map((e) => e.type));
    expect(types).toContain('DIVERSION_TOWARD_RESTRICTED');
    expect(types).toContain('RESTRICTED_ZONE_ENTERED');
  });

  it('drops its clear box when a zone near it becomes forbidden (a licence-required country, no licence)', () => {
    const licensed = context({
      mode: 'sea',
      origin: kaohsiung,
      destination: rotterdam,
      route: route.legs[0]!.coordinates,
      restrictedCountries: [],
      licensed: ['VN'],
    });
    const run = runShipmentChecks(
      initialShipmentState(),
      'planned',
      [{ ts: 0, lat: 13, lon: 110.5 }],
      licensed,
    );
    const box = run.state.clear;
    expect(box).toBeTruthy();
    expect(licensed.zones.stillClear(box!, (z) => licensed.isRestricted(z) || licensed.isUnlicensed(z))).toBe(
      true,
    );
    // The same box under a context that gives no licence for Vietnam no longer holds.
    const unlicensed = context({
      mode: 'sea',
      origin: kaohsiung,
      destination: rotterdam,
      route: route.legs[0]!.coordinates,
      restrictedCountries: ['VN'],
    });
    expect(
      unlicensed.zones.stillClear(box!, (z) => unlicensed.isRestricted(z) || unlicensed.isUnlicensed(z)),
    ).toBe(false);
  });
});
