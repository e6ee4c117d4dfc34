// Boundaries and details of TAMPER and GAP_WITH_DISPLACEMENT that a reviewer (or a mutation) could move without the
// scenario tests noticing: thresholds are strict or inclusive as written, and each alert names what it saw.
import { describe, expect, it } from 'vitest';
import { checkGap } from '../../../src/checks/gap.ts';
import { checkDeviation, initialDeviation } from '../../../src/checks/route-deviation.ts';
import { checkTamper } from '../../../src/checks/tamper.ts';
import type { Fix } from '../../../src/checks/types.ts';
import { airborneReason } from '../../../src/checks/zone.ts';
import { destinationPoint } from '../../../src/geo/spherical.ts';
import { context } from '../../helpers/geo.ts';

const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);
const A = { lat: -20, lon: 70, radiusKm: 25 };
const B = { lat: -20, lon: 100, radiusKm: 25 };
// Sea: top speed 60 km/h; gap after 3 × 1800 s; light threshold 20 lux.
const ctx = context({
  mode: 'sea',
  origin: A,
  destination: B,
  route: [
    [A.lon, A.lat],
    [B.lon, B.lat],
  ],
  corridorKm: 50,
});
const at = (p: { lat: number; lon: number }, ts: number, extra: Partial<Fix> = {}): Fix => ({
  ts,
  lat: p.lat,
  lon: p.lon,
  ...extra,
});

describe('TAMPER', () => {
  const sea = at({ lat: -20, lon: 85 }, T0);

  it('raises for the tamper switch away from the destination, naming it, with the fix', () => {
    expect(checkTamper({ ...sea, tamper: true }, ctx)).toEqual([
      {
        type: 'TAMPER',
        action: 'raise',
        at: T0,
        details: {
          reason: 'tamper switch',
          lightLux: null,
          fix: { ts: new Date(T0).toISOString(), lat: -20, lon: 85 },
        },
      },
    ]);
  });

  it('raises for light strictly above the threshold (21 lux), not at it (20) nor without a reading', () => {
    expect(checkTamper({ ...sea, lightLux: 20 }, ctx)).toEqual([]);
    expect(checkTamper(sea, ctx)).toEqual([]);
    const [e] = checkTamper({ ...sea, lightLux: 21 }, ctx);
    expect(e?.details).toMatchObject({ reason: 'light 21 lux inside the sealed case', lightLux: 21 });
  });

  it('stays silent inside the destination radius, its edge included, and raises just beyond it', () => {
    const edge = destinationPoint(B, 90, 25 - 1e-6);
    expect(checkTamper(at(edge, T0, { tamper: true }), ctx)).toEqual([]);
    expect(checkTamper(at(destinationPoint(B, 90, 25.01), T0, { tamper: true }), ctx)).toHaveLength(1);
  });
});

describe('after a gap', () => {
  const prev = at({ lat: -20, lon: 80 }, T0);
  const gapMs = 3 * 1800 * 1000;

  it('does nothing without a previous fix or for a silence shorter than gapIntervals × reportIntervalS', () => {
    expect(checkGap(undefined, prev, 0, ctx)).toEqual([]);
    expect(checkGap(prev, at(prev, T0 + gapMs - 1000), 0, ctx)).toEqual([]);
  });

  it('resolves SIGNAL_LOST once the silence reached the limit exactly, saying how long it lasted', () => {
    expect(checkGap(prev, at(prev, T0 + gapMs), 0, ctx)).toEqual([
      {
        type: 'SIGNAL_LOST',
        action: 'resolve',
        at: T0 + gapMs,
        details: { reason: 'telemetry resumed after 1.5 h' },
      },
    ]);
  });

  it('raises GAP_WITH_DISPLACEMENT beyond the top speed (60 km/h × 1.5 h = 90 km), not within it', () => {
    const near = at(destinationPoint(prev, 90, 89), T0 + gapMs);
    expect(checkGap(prev, near, 0, ctx).map((e) => e.type)).toEqual(['SIGNAL_LOST']);
    const far = at(destinationPoint(prev, 90, 91), T0 + gapMs);
    const events = checkGap(prev, far, 0, ctx);
    expect(events.map((e) => e.type)).toEqual(['SIGNAL_LOST', 'GAP_WITH_DISPLACEMENT']);
    expect(events[1]).toMatchObject({
      action: 'raise',
      at: T0 + gapMs,
      details: {
        gapHours: 1.5,
        movedKm: 91,
        reachableKm: 90,
        crossTrackKm: 0,
        corridorKm: 50,
        reason: 'farther than the top speed allows',
        before: { ts: new Date(T0).toISOString(), lat: -20, lon: 80 },
        after: { ts: new Date(T0 + gapMs).toISOString(), lat: far.lat, lon: far.lon },
      },
    });
  });

  it('raises when it reappears off the corridor (cross-track above corridorKm), not on its edge', () => {
    const near = at(destinationPoint(prev, 90, 10), T0 + gapMs);
    expect(checkGap(prev, near, 50, ctx).map((e) => e.type)).toEqual(['SIGNAL_LOST']);
    const events = checkGap(prev, near, 50.5, ctx);
    expect(events.map((e) => e.type)).toEqual(['SIGNAL_LOST', 'GAP_WITH_DISPLACEMENT']);
    expect(events[1]?.details).toMatchObject({
      reason: 'reappeared off the planned route',
      crossTrackKm: 50.5,
    });
  });
});

describe('airborneReason (what makes an aircraft over a restricted country an entry, not an overflight)', () => {
  const air = context({
    mode: 'air',
    origin: { lat: 25.25, lon: 55.36, radiusKm: 30 },
    destination: { lat: 52.31, lon: 4.76, radiusKm: 30 },
    corridorKm: 50,
  });
  const cruise = (extra: Partial<Fix> = {}): Fix => ({
    ts: T0,
    lat: 35,
    lon: 50,
    speedKmh: 800,
    altM: 11_000,
    ...extra,
  });

  it('is "not an aircraft" for any other mode', () => {
    expect(airborneReason(undefined, cruise(), ctx, 0)).toBe('not an aircraft');
  });

  it('is undefined at cruise on the corridor, its edges included (50 km, 500 km/h, 6000 m, a 1500 m step down)', () => {
    expect(airborneReason(undefined, cruise(), air, 50)).toBeUndefined();
    expect(airborneReason(undefined, cruise({ speedKmh: 500, altM: 6000 }), air, 0)).toBeUndefined();
    expect(airborneReason(cruise({ altM: 7500 }), cruise({ altM: 6000 }), air, 0)).toBeUndefined();
    expect(airborneReason(cruise(), cruise({ altM: undefined }), air, 0)).toBeUndefined();
    expect(airborneReason(cruise({ altM: undefined }), cruise(), air, 0)).toBeUndefined();
  });

  it('names each way out of cruise, in order: corridor, no speed, slow, low, descending', () => {
    expect(airborneReason(undefined, cruise(), air, 50.1)).toBe('off the planned corridor');
    expect(airborneReason(undefined, cruise({ speedKmh: undefined }), air, 0)).toBe(
      'ground speed not reported',
    );
    expect(airborneReason(undefined, cruise({ speedKmh: 499 }), air, 0)).toBe('slowed below cruise');
    expect(airborneReason(undefined, cruise({ altM: 5999 }), air, 0)).toBe('below cruise altitude');
    expect(airborneReason(cruise({ altM: 9000 }), cruise({ altM: 7499 }), air, 0)).toBe('descending');
    expect(airborneReason(undefined, cruise({ speedKmh: 100, altM: 100 }), air, 60)).toBe(
      'off the planned corridor',
    );
  });
});

describe('checkDeviation step by step', () => {
  const MIN = 60_000;
  const f = (min: number): Fix => ({ ts: T0 + min * MIN, lat: -20, lon: 85 });
  const run = (steps: [number, number][]) => {
    let s = initialDeviation;
    return steps.map(([min, km]) => {
      const r = checkDeviation(s, f(min), km, ctx);
      s = r.state;
      return r;
    });
  };

  it('counts a fix on the corridor edge (50 km) as inside, and raises at the 3rd fix outside held exactly 15 min', () => {
    expect(run([[0, 50]])[0]!.state.outsideFixes).toBe(0);
    const r = run([
      [0, 60],
      [5, 90],
      [15, 70],
    ]);
    expect(r.map((x) => x.events.length)).toEqual([0, 0, 1]);
    expect(r[2]!.events[0]).toEqual({
      type: 'ROUTE_DEVIATION',
      action: 'raise',
      at: T0 + 15 * MIN,
      details: {
        crossTrackKm: 70,
        maxCrossTrackKm: 90,
        corridorKm: 50,
        outsideSince: new Date(T0).toISOString(),
        fixesOutside: 3,
        fix: { ts: new Date(T0 + 15 * MIN).toISOString(), lat: -20, lon: 85 },
      },
    });
    expect(r[2]!.state).toMatchObject({
      open: true,
      outsideSince: T0,
      insideSince: null,
      maxCrossTrackKm: 90,
    });
  });

  it('does not raise at 14.9 minutes', () => {
    const r = run([
      [0, 60],
      [5, 60],
      [14.9, 60],
    ]);
    expect(r[2]!.events).toEqual([]);
  });

  it('resolves after 30 min back inside, counted from the first fix inside, saying since when; not at 29', () => {
    const r = run([
      [0, 60],
      [5, 60],
      [15, 60],
      [20, 10],
      [49, 10],
      [50, 10],
    ]);
    expect(r[3]!.state).toMatchObject({
      open: true,
      insideSince: T0 + 20 * MIN,
      outsideFixes: 0,
      maxCrossTrackKm: 60,
    });
    expect(r[4]!.events).toEqual([]);
    expect(r[5]!.events).toEqual([
      {
        type: 'ROUTE_DEVIATION',
        action: 'resolve',
        at: T0 + 50 * MIN,
        details: { reason: `back inside the 50 km corridor since ${new Date(T0 + 20 * MIN).toISOString()}` },
      },
    ]);
    expect(r[5]!.state).toEqual(initialDeviation);
    expect(initialDeviation).toEqual({
      outsideFixes: 0,
      outsideSince: null,
      insideSince: null,
      maxCrossTrackKm: 0,
      open: false,
    });
  });

  it('forgets the peak of an excursion that never raised once back inside', () => {
    const r = run([
      [0, 80],
      [5, 10],
    ]);
    expect(r[1]!.state).toEqual({
      outsideFixes: 0,
      outsideSince: null,
      insideSince: T0 + 5 * MIN,
      maxCrossTrackKm: 0,
      open: false,
    });
  });
});
