// Boundaries and details of RESTRICTED_ZONE_ENTERED and SPOOFING_SUSPECTED that a reviewer (or a mutation) could move
// without the scenario tests noticing: each check is fed fixes one at a time, against custom box-shaped zones over
// the open Indian Ocean, so every figure in an alert can be written down exactly.
import { describe, expect, it } from 'vitest';
import {
  checkSpoofing,
  initialSpoof,
  lateFixImpossible,
  type SpoofState,
} from '../../../src/checks/spoofing.ts';
import type { Fix, ShipmentContext } from '../../../src/checks/types.ts';
import { airborneReason, checkZones } from '../../../src/checks/zone.ts';
import { destinationPoint, haversineKm } from '../../../src/geo/spherical.ts';
import type { LatLon, Zone, ZoneFilter, ZoneIndex } from '../../../src/geo/types.ts';
import { context } from '../../helpers/geo.ts';

const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A custom zone: a lat/lon box. */
interface Box extends Zone {
  lat: [number, number];
  lon: [number, number];
}
const box = (
  id: string,
  tier: Zone['tier'],
  lat: [number, number],
  lon: [number, number],
  country?: string,
): Box => ({
  id,
  name: `Zone ${id}`,
  kind: 'custom',
  tier,
  ...(country ? { country } : {}),
  lat,
  lon,
});
const plain = ({ lat: _a, lon: _b, ...z }: Box): Zone => z;
const inBox = (b: Box, p: LatLon) =>
  p.lat >= b.lat[0] && p.lat <= b.lat[1] && p.lon >= b.lon[0] && p.lon <= b.lon[1];

/** Zones as boxes: a segment "crosses" a box when some of it lies inside and some outside. */
function boxIndex(boxes: Box[]): ZoneIndex {
  const at = (p: LatLon, filter?: ZoneFilter) =>
    boxes
      .filter((b) => inBox(b, p))
      .map(plain)
      .filter((z) => !filter || filter(z));
  return {
    zonesAt: at,
    countryAt: () => undefined,
    zonesCrossed: (a: LatLon, b: LatLon, filter: ZoneFilter) =>
      boxes
        .filter((z) => {
          const hits = Array.from({ length: 101 }, (_, i) =>
            inBox(z, { lat: a.lat + ((b.lat - a.lat) * i) / 100, lon: a.lon + ((b.lon - a.lon) * i) / 100 }),
          );
          return hits.some(Boolean) && !hits.every(Boolean);
        })
        .map(plain)
        .filter(filter),
    nearest: () => undefined,
  } as unknown as ZoneIndex;
}

// RED: restricted (country IR); LIC: licence required, covered by a licence; UNL: licence required, none held;
// WATCH: a hub, neither restricted nor unlicensed.
const RED = box('RED', 'restricted', [-10, -8], [80, 82], 'IR');
const UNL = box('UNL', 'licenseRequired', [-14, -12], [80, 82], 'EG');
const LIC = box('LIC', 'licenseRequired', [-18, -16], [80, 82]);
const WATCH = box('WATCH', 'watch', [-24, -22], [80, 82], 'MY');
const RED2 = box('RED2', 'restricted', [-14, -12], [80, 82], 'KP');

function ctxFor(mode: 'sea' | 'air', boxes: Box[] = [RED, UNL, LIC, WATCH], params = {}): ShipmentContext {
  const base = context({
    mode,
    origin: { lat: -20, lon: 70, radiusKm: 25 },
    destination: { lat: -20, lon: 100, radiusKm: 25 },
    route: [
      [70, -20],
      [100, -20],
    ],
    corridorKm: 50,
    params,
  });
  return {
    ...base,
    zones: boxIndex(boxes),
    isRestricted: (z) => z.tier === 'restricted',
    isUnlicensed: (z) => z.tier === 'licenseRequired' && z.id !== 'LIC',
  };
}
const sea = ctxFor('sea');
const air = ctxFor('air');
const fixAt = (p: LatLon, ts: number, extra: Partial<Fix> = {}): Fix => ({
  ts,
  lat: p.lat,
  lon: p.lon,
  ...extra,
});
const where = (f: Fix) => ({ ts: iso(f.ts), lat: f.lat, lon: f.lon });
const cruise = { altM: 11_000, speedKmh: 850 };

describe('airborneReason', () => {
  const f = fixAt({ lat: -9, lon: 81 }, T0, cruise);
  it('names each way an aircraft fix is not an overflight, and none for a cruise on the corridor', () => {
    expect(airborneReason(undefined, f, air, 50)).toBeUndefined();
    expect(airborneReason(undefined, f, air, 50.1)).toBe('off the planned corridor');
    expect(airborneReason(undefined, { ...f, speedKmh: undefined }, air, 0)).toBe(
      'ground speed not reported',
    );
    expect(airborneReason(undefined, { ...f, speedKmh: 499 }, air, 0)).toBe('slowed below cruise');
    expect(airborneReason(undefined, { ...f, speedKmh: 500, altM: 6000 }, air, 0)).toBeUndefined();
    expect(airborneReason(undefined, f, sea, 0)).toBe('not an aircraft');
  });
});

describe('RESTRICTED_ZONE_ENTERED at a fix', () => {
  const inRed = fixAt({ lat: -9, lon: 81 }, T0, { speedKmh: 20 });

  it('raises for a ship inside a restricted zone, naming the zone, the fix and the corridor, no aircraft figures', () => {
    const r = checkZones(undefined, inRed, sea, 12.345);
    expect(r).toEqual({
      inside: [plain(RED)],
      flags: [],
      events: [
        {
          type: 'RESTRICTED_ZONE_ENTERED',
          action: 'raise',
          at: T0,
          details: {
            zoneId: 'RED',
            zoneName: 'Zone RED',
            tier: 'restricted',
            kind: 'custom',
            country: 'IR',
            via: 'fix',
            fix: { ts: iso(T0), lat: -9, lon: 81 },
            crossTrackKm: 12.3,
            corridorKm: 50,
          },
        },
      ],
    });
  });

  it('gives a zone without a country as country null', () => {
    const noCountry = ctxFor('sea', [box('X', 'restricted', [-10, -8], [80, 82])]);
    expect(checkZones(undefined, inRed, noCountry, 0).events[0]?.details.country).toBeNull();
  });

  it('raises for a late fix (no previous fix) inside the zone, and for each zone holding the fix', () => {
    const both = ctxFor('sea', [RED, box('RED-B', 'restricted', [-9.5, -8.5], [80.5, 81.5])]);
    expect(checkZones(undefined, inRed, both, 0).events.map((e) => e.details.zoneId)).toEqual([
      'RED',
      'RED-B',
    ]);
  });

  it('raises for an unlicensed licence-required zone only strictly off the corridor; never for a licensed one', () => {
    const inUnl = fixAt({ lat: -13, lon: 81 }, T0);
    expect(checkZones(undefined, inUnl, sea, 50)).toEqual({ events: [], flags: [], inside: [] });
    const off = checkZones(undefined, inUnl, sea, 50.01);
    expect(off.events.map((e) => [e.details.zoneId, e.details.tier])).toEqual([['UNL', 'licenseRequired']]);
    expect(checkZones(undefined, fixAt({ lat: -17, lon: 81 }, T0), sea, 500).events).toEqual([]);
    expect(checkZones(undefined, fixAt({ lat: -23, lon: 81 }, T0), sea, 500).events).toEqual([]);
  });

  it('keeps only the forbidden zones of a known list: a licence-required zone on the corridor is not one', () => {
    const r = checkZones(undefined, inRed, sea, 10, [plain(UNL)]);
    expect(r).toEqual({ events: [], flags: [], inside: [] });
    const red = checkZones(fixAt({ lat: -20, lon: 81 }, T0 - HOUR), inRed, sea, 10, [plain(UNL), plain(RED)]);
    expect(red.inside).toEqual([plain(RED)]);
    expect(red.events).toHaveLength(1);
  });

  it('flags an aircraft at cruise on the corridor as an overflight and raises nothing', () => {
    const f = fixAt({ lat: -9, lon: 81 }, T0, cruise);
    expect(checkZones(undefined, f, air, 10)).toEqual({
      events: [],
      flags: ['RESTRICTED_OVERFLIGHT'],
      inside: [plain(RED)],
    });
  });

  it('raises for an aircraft below cruise altitude, with its altitude, speed and the overflight thresholds', () => {
    const f = fixAt({ lat: -9, lon: 81 }, T0, { altM: 3000, speedKmh: 600 });
    const [e] = checkZones(undefined, f, air, 10).events;
    expect(e?.details).toEqual({
      zoneId: 'RED',
      zoneName: 'Zone RED',
      tier: 'restricted',
      kind: 'custom',
      country: 'IR',
      via: 'fix',
      fix: { ts: iso(T0), lat: -9, lon: 81 },
      crossTrackKm: 10,
      corridorKm: 50,
      reason: 'below cruise altitude',
      altM: 3000,
      speedKmh: 600,
      overflightMinAltM: 6000,
      overflightMinSpeedKmh: 500,
    });
  });

  it('writes altitude null when the aircraft reports none, and speed null when it reports no speed', () => {
    const f = fixAt({ lat: -9, lon: 81 }, T0, { speedKmh: 300 });
    expect(checkZones(undefined, f, air, 0).events[0]?.details).toMatchObject({ altM: null, speedKmh: 300 });
    const g = fixAt({ lat: -9, lon: 81 }, T0, { altM: 9000 });
    expect(checkZones(undefined, g, air, 0).events[0]?.details).toMatchObject({
      reason: 'ground speed not reported',
      altM: 9000,
      speedKmh: null,
    });
  });
});

describe('RESTRICTED_ZONE_ENTERED between two fixes', () => {
  // A ship 30 minutes apart, south of RED then north of it: the straight line crosses the zone.
  const south = fixAt({ lat: -11, lon: 81 }, T0, { speedKmh: 20 });
  const north = fixAt({ lat: -7, lon: 81 }, T0 + 30 * MIN, { speedKmh: 20 });

  it('does nothing with no previous fix, or with a known clear answer, or when the segment meets no zone', () => {
    expect(checkZones(undefined, north, sea, 0)).toEqual({ events: [], flags: [], inside: [] });
    expect(checkZones(south, north, sea, 0, [])).toEqual({ events: [], flags: [], inside: [] });
    const east = fixAt({ lat: -11, lon: 85 }, T0 + 30 * MIN);
    expect(checkZones(south, east, sea, 0)).toEqual({ events: [], flags: [], inside: [] });
  });

  it('raises for a ship whose segment crosses a restricted zone, naming both ends and no aircraft figures', () => {
    expect(checkZones(south, north, sea, 7.77)).toEqual({
      inside: [],
      flags: [],
      events: [
        {
          type: 'RESTRICTED_ZONE_ENTERED',
          action: 'raise',
          at: T0 + 30 * MIN,
          details: {
            zoneId: 'RED',
            zoneName: 'Zone RED',
            tier: 'restricted',
            kind: 'custom',
            country: 'IR',
            via: 'segment',
            from: { ts: iso(T0), lat: -11, lon: 81 },
            fix: { ts: iso(T0 + 30 * MIN), lat: -7, lon: 81 },
            crossTrackKm: 7.8,
            corridorKm: 50,
          },
        },
      ],
    });
  });

  it('does not raise for leaving a zone the previous fix was already in, but does for entering another', () => {
    // The previous fix lies inside RED2 (and UNL); the segment north leaves them and, further on, enters RED.
    const inBoth = ctxFor('sea', [RED, RED2, UNL]);
    const from = fixAt({ lat: -13, lon: 81 }, T0);
    const to = fixAt({ lat: -11, lon: 81 }, T0 + 30 * MIN);
    expect(checkZones(from, to, inBoth, 100)).toEqual({ events: [], flags: [], inside: [] });
    const on = fixAt({ lat: -7, lon: 81 }, T0 + 30 * MIN);
    expect(checkZones(from, on, inBoth, 100).events.map((e) => e.details.zoneId)).toEqual(['RED']);
  });

  it('flags an aircraft at cruise at both ends as an overflight between two reports', () => {
    const a = { ...south, ...cruise };
    const b = { ...north, ...cruise };
    expect(checkZones(a, b, air, 0)).toEqual({ events: [], flags: ['RESTRICTED_OVERFLIGHT'], inside: [] });
    // Both at cruise, nothing crossed: no flag.
    const c = fixAt({ lat: -11, lon: 85 }, T0 + 30 * MIN, cruise);
    expect(checkZones(a, c, air, 0)).toEqual({ events: [], flags: [], inside: [] });
  });

  it('raises when the previous fix was below cruise, saying so, with the fix figures', () => {
    const a = { ...south, altM: 2000, speedKmh: 400 };
    const b = { ...north, ...cruise };
    const r = checkZones(a, b, air, 0);
    expect(r.flags).toEqual([]);
    expect(r.events[0]?.details).toEqual({
      zoneId: 'RED',
      zoneName: 'Zone RED',
      tier: 'restricted',
      kind: 'custom',
      country: 'IR',
      via: 'segment',
      from: { ts: iso(T0), lat: -11, lon: 81 },
      fix: { ts: iso(T0 + 30 * MIN), lat: -7, lon: 81 },
      crossTrackKm: 0,
      corridorKm: 50,
      reason: 'previous fix below cruise',
      altM: 11_000,
      speedKmh: 850,
      overflightMinAltM: 6000,
      overflightMinSpeedKmh: 500,
    });
  });

  it('raises when the new fix is below cruise though the previous one cruised, naming the new fix reason', () => {
    const a = { ...south, ...cruise };
    const b = { ...north, altM: 11_000, speedKmh: 300 };
    expect(checkZones(a, b, air, 0).events[0]?.details).toMatchObject({
      reason: 'slowed below cruise',
      altM: 11_000,
      speedKmh: 300,
    });
  });
});

describe('SPOOFING_SUSPECTED', () => {
  const trusted = fixAt({ lat: -20, lon: 85 }, T0, { speedKmh: 20, satellites: 9, hdop: 0.9 });
  const jumpBy = (km: number, minutes: number, extra: Partial<Fix> = {}, from: Fix = trusted): Fix => ({
    ...fixAt(destinationPoint(from, 0, km), from.ts + minutes * MIN),
    speedKmh: 20,
    satellites: 9,
    hdop: 0.9,
    ...extra,
  });

  it('starts from no repeats and no run', () => {
    expect(initialSpoof).toEqual({ repeats: 0, run: null });
  });

  it('passes an ordinary fix: no flags, no event, no run', () => {
    expect(checkSpoofing(initialSpoof, trusted, jumpBy(10, 30), sea)).toEqual({
      state: { repeats: 0, run: null },
      events: [],
      flags: [],
      suspect: false,
    });
  });

  it('flags a jump above maxSpeedKmh, naming the speed, the limit, the jump and what was reachable', () => {
    const f = jumpBy(100, 60);
    const km = haversineKm(trusted, f);
    const r = checkSpoofing(initialSpoof, trusted, f, sea);
    expect(r.flags).toEqual(['SPEED_IMPOSSIBLE']);
    expect(r.suspect).toBe(true);
    expect(r.state).toEqual({
      repeats: 0,
      run: {
        since: f.ts,
        fixes: 1,
        claims: [],
        points: [{ lat: f.lat, lon: f.lon }],
        consistent: 0,
        last: { ts: f.ts, lat: f.lat, lon: f.lon },
      },
    });
    expect(r.events).toEqual([
      {
        type: 'SPOOFING_SUSPECTED',
        action: 'raise',
        at: f.ts,
        details: {
          fix: where(f),
          subtype: 'impossible_speed',
          impliedSpeedKmh: Math.round(km * 10) / 10,
          maxSpeedKmh: 60,
          jumpKm: Math.round(km * 10) / 10,
          lastTrustedFix: where(trusted),
          reachableKm: 60,
          flags: ['SPEED_IMPOSSIBLE'],
          runSince: iso(f.ts),
          runFixes: 1,
          claimedZones: [],
          drivesChecks: false,
        },
      },
    ]);
  });

  it('passes a jump at exactly maxSpeedKmh and flags one just above it', () => {
    const f = jumpBy(30, 30);
    const exact = 2 * haversineKm(trusted, f);
    expect(checkSpoofing(initialSpoof, trusted, f, ctxFor('sea', [], { maxSpeedKmh: exact })).flags).toEqual(
      [],
    );
    expect(
      checkSpoofing(initialSpoof, trusted, f, ctxFor('sea', [], { maxSpeedKmh: exact - 1e-9 })).flags,
    ).toEqual(['SPEED_IMPOSSIBLE']);
  });

  it('passes a hop of 5 km or less however fast (GNSS noise), and counts at least a second', () => {
    expect(checkSpoofing(initialSpoof, trusted, jumpBy(4.9, 0), sea).flags).toEqual([]);
    // 6 km in the same millisecond: measured over one second, 21 600 km/h.
    const f = jumpBy(6, 0);
    expect(checkSpoofing(initialSpoof, trusted, f, sea).events[0]?.details).toMatchObject({
      impliedSpeedKmh: Math.round(haversineKm(trusted, f) * 3600 * 10) / 10,
      reachableKm: Math.round((60 / 3600) * 10) / 10,
    });
  });

  it('flags a fix back at a point the run claimed (pinned), within 5 km of it, but not one elsewhere', () => {
    const a = jumpBy(100, 1, { satellites: 2 });
    const b = jumpBy(300, 2, { satellites: 2 });
    let s: SpoofState = checkSpoofing(initialSpoof, trusted, a, sea).state;
    s = checkSpoofing(s, trusted, b, sea).state;
    expect(s.run?.points).toEqual([
      { lat: a.lat, lon: a.lon },
      { lat: b.lat, lon: b.lon },
    ]);
    // Much later (reachable from the trusted fix), within 4 km of the first point: pinned.
    const back = fixAt(destinationPoint(a, 90, 4), T0 + 48 * HOUR, {
      speedKmh: 20,
      satellites: 9,
      hdop: 0.9,
    });
    const r = checkSpoofing(s, trusted, back, sea);
    expect(r.flags).toEqual(['SPOOF_PINNED']);
    expect(r.events[0]?.details).toMatchObject({
      subtype: 'pinned',
      lastTrustedFix: where(trusted),
      pinnedWithinKm: 5,
      runFixes: 3,
      runSince: iso(a.ts),
    });
    const far = fixAt(destinationPoint(a, 90, 6), T0 + 48 * HOUR, { speedKmh: 20, satellites: 9, hdop: 0.9 });
    expect(checkSpoofing(s, trusted, far, sea).flags).toEqual([]);
    // Near the trusted fix itself (4 km) a run's point is no evidence: the hop is noise.
    const run = { ...s.run!, points: [{ lat: trusted.lat, lon: trusted.lon }] };
    const near = jumpBy(4, 48 * 60);
    expect(checkSpoofing({ ...s, run }, trusted, near, sea).flags).toEqual([]);
  });

  it('flags a frozen track at the 5th identical position (the trusted fix and 4 repeats), not at the 4th', () => {
    let s: SpoofState = initialSpoof;
    const frozen = (i: number) => ({ ...trusted, ts: T0 + i * 30 * MIN, speedKmh: 12 });
    const flags: string[][] = [];
    for (let i = 1; i <= 4; i++) {
      const r = checkSpoofing(s, trusted, frozen(i), sea);
      s = r.state;
      flags.push(r.flags);
    }
    expect(flags).toEqual([[], [], [], ['FROZEN_TRACK']]);
    expect(s.repeats).toBe(4);
    // A frozen fix claims no position: the run has no point.
    expect(s.run?.points).toEqual([]);
    const r = checkSpoofing({ repeats: 3, run: null }, trusted, frozen(5), sea);
    expect(r.events[0]?.details).toEqual({
      fix: where(frozen(5)),
      subtype: 'frozen',
      identicalFixes: 5,
      reportedSpeedKmh: 12,
      flags: ['FROZEN_TRACK'],
      runSince: iso(frozen(5).ts),
      runFixes: 1,
      claimedZones: [],
      drivesChecks: false,
    });
  });

  it('counts no repeat when the device reports 5 km/h or less, none, or only the latitude repeats', () => {
    const s = { repeats: 3, run: null };
    expect(checkSpoofing(s, trusted, { ...trusted, ts: T0 + MIN, speedKmh: 5 }, sea).state.repeats).toBe(0);
    expect(
      checkSpoofing(s, trusted, { ...trusted, ts: T0 + MIN, speedKmh: undefined }, sea).state.repeats,
    ).toBe(0);
    expect(checkSpoofing(s, trusted, { ...trusted, ts: T0 + MIN, speedKmh: 5.1 }, sea).state.repeats).toBe(4);
    const sameLat = { ...trusted, ts: T0 + MIN, lon: trusted.lon + 0.001 };
    expect(checkSpoofing(s, trusted, sameLat, sea).state.repeats).toBe(0);
    const sameLon = { ...trusted, ts: T0 + MIN, lat: trusted.lat + 0.001 };
    expect(checkSpoofing(s, trusted, sameLon, sea).state.repeats).toBe(0);
  });

  it('keeps the jump subtype when a jump is also frozen or GNSS-impossible', () => {
    const f = jumpBy(100, 60, { satellites: 1 });
    const r = checkSpoofing({ repeats: 0, run: null }, trusted, f, sea);
    expect(r.flags).toEqual(['SPEED_IMPOSSIBLE', 'GNSS_IMPOSSIBLE']);
    expect(r.events[0]?.details).toMatchObject({ subtype: 'impossible_speed', satellites: 1, hdop: 0.9 });
    const frozenJump = checkSpoofing(
      { repeats: 4, run: null },
      trusted,
      { ...trusted, ts: T0 + MIN, hdop: 0 },
      sea,
    );
    expect(frozenJump.flags).toEqual(['FROZEN_TRACK', 'GNSS_IMPOSSIBLE']);
    expect(frozenJump.events[0]?.details).toMatchObject({ subtype: 'frozen', satellites: 9, hdop: 0 });
    // Frozen and GNSS-impossible together claim the position.
    expect(frozenJump.state.run?.points).toEqual([{ lat: trusted.lat, lon: trusted.lon }]);
  });

  it('flags fewer than 3 satellites (not 3) and hdop 0, writing the missing figure as null', () => {
    expect(checkSpoofing(initialSpoof, undefined, jumpBy(1, 1, { satellites: 3 }), sea).flags).toEqual([]);
    expect(
      checkSpoofing(initialSpoof, undefined, jumpBy(1, 1, { satellites: undefined }), sea).flags,
    ).toEqual([]);
    const two = checkSpoofing(initialSpoof, undefined, jumpBy(1, 1, { satellites: 2, hdop: 1.2 }), sea);
    expect(two.flags).toEqual(['GNSS_IMPOSSIBLE']);
    expect(two.events[0]?.details).toMatchObject({ subtype: 'gnss_impossible', satellites: 2, hdop: 1.2 });
    const h0 = checkSpoofing(initialSpoof, undefined, jumpBy(1, 1, { satellites: undefined, hdop: 0 }), sea);
    expect(h0.flags).toEqual(['GNSS_IMPOSSIBLE']);
    expect(h0.events[0]?.details).toMatchObject({ subtype: 'gnss_impossible', satellites: null, hdop: 0 });
    const noHdop = checkSpoofing(
      initialSpoof,
      undefined,
      jumpBy(1, 1, { satellites: 1, hdop: undefined }),
      sea,
    );
    expect(noHdop.events[0]?.details).toMatchObject({ satellites: 1, hdop: null });
  });

  it('keeps claimed points 1 km apart or more, at most 8 of them', () => {
    let s: SpoofState = initialSpoof;
    // Ten suspect fixes a minute apart, 50 km apart: none reachable from the one before.
    for (let i = 0; i < 10; i++) {
      const f = fixAt(destinationPoint(trusted, 90, 50 * (i + 1)), T0 + (i + 1) * MIN, { satellites: 2 });
      s = checkSpoofing(s, undefined, f, sea).state;
    }
    expect(s.run?.points).toHaveLength(8);
    expect(s.run?.fixes).toBe(10);
    // Half a kilometre from a point already kept: not a new point.
    const p0 = s.run!.points[0]!;
    const near = fixAt(destinationPoint(p0, 0, 0.5), T0 + 20 * MIN, { satellites: 2 });
    const one = { repeats: 0, run: { ...s.run!, points: [p0] } };
    expect(checkSpoofing(one, undefined, near, sea).state.run?.points).toEqual([p0]);
    const farther = fixAt(destinationPoint(p0, 0, 1.5), T0 + 20 * MIN, { satellites: 2 });
    expect(checkSpoofing(one, undefined, farther, sea).state.run?.points).toHaveLength(2);
  });

  it('claims the restricted and unlicensed zones a suspect fix lies in, once each, the restricted one named', () => {
    const ctx = ctxFor('sea', [UNL, RED2, WATCH]);
    const inUnl = fixAt({ lat: -13, lon: 81 }, T0 + MIN, { satellites: 2 });
    let r = checkSpoofing(initialSpoof, undefined, inUnl, ctx);
    expect(r.state.run?.claims).toEqual([
      { zoneId: 'UNL', zoneName: 'Zone UNL', country: 'EG', tier: 'licenseRequired' },
      { zoneId: 'RED2', zoneName: 'Zone RED2', country: 'KP', tier: 'restricted' },
    ]);
    expect(r.events[0]?.details).toMatchObject({ country: 'KP', zoneId: 'RED2', zoneName: 'Zone RED2' });
    // Again inside the same zones: no duplicate claim.
    r = checkSpoofing(r.state, undefined, { ...inUnl, ts: T0 + 2 * MIN, lat: -13.5 }, ctx);
    expect(r.state.run?.claims.map((c) => c.zoneId)).toEqual(['UNL', 'RED2']);
    // Only a licence-required claim: it is named. A hub is never claimed.
    const unlOnly = checkSpoofing(initialSpoof, undefined, inUnl, ctxFor('sea', [UNL, WATCH]));
    expect(unlOnly.events[0]?.details).toMatchObject({ country: 'EG', zoneId: 'UNL', zoneName: 'Zone UNL' });
    const hub = fixAt({ lat: -23, lon: 81 }, T0 + MIN, { satellites: 2 });
    const h = checkSpoofing(initialSpoof, undefined, hub, ctx);
    expect(h.state.run?.claims).toEqual([]);
    expect(h.events[0]?.details).not.toHaveProperty('zoneId');
  });

  describe('a run that moves on', () => {
    // Trusted far behind; each suspect fix is an impossible jump from it but reachable from the one before.
    const step = (from: Fix, km: number, minutes: number) => jumpBy(km, minutes, {}, from);
    const a = jumpBy(100, 1);

    function run(b: Fix, c: Fix) {
      let s = checkSpoofing(initialSpoof, trusted, a, sea).state;
      const rb = checkSpoofing(s, trusted, b, sea);
      s = rb.state;
      return { b: rb, c: checkSpoofing(s, trusted, c, sea) };
    }

    it('resumes elsewhere at the third fix in a row each reachable from the one before, away from the first', () => {
      const b = step(a, 20, 60);
      const { b: rb, c } = run(b, step(b, 20, 60));
      expect(rb.flags).toEqual(['SPEED_IMPOSSIBLE']);
      expect(rb.state.run?.consistent).toBe(1);
      expect(c).toEqual({
        state: { repeats: 0, run: null },
        events: [],
        flags: ['TRACK_RESUMED_ELSEWHERE'],
        suspect: false,
      });
    });

    it('counts a hop of 5 km or less as reachable however fast', () => {
      const b = step(a, 3, 0);
      expect(run(b, step(b, 20, 60)).c.flags).toEqual(['TRACK_RESUMED_ELSEWHERE']);
    });

    it('counts speed, not distance × time: 50 km in 2 hours is reachable, 100 km in an hour is not', () => {
      const b = step(a, 50, 120);
      expect(run(b, step(b, 50, 120)).c.flags).toEqual(['TRACK_RESUMED_ELSEWHERE']);
      const d = step(a, 100, 60);
      expect(run(d, step(d, 20, 60)).c.flags).toEqual(['SPEED_IMPOSSIBLE']);
    });

    it('counts a hop at exactly maxSpeedKmh from the fix before as reachable', () => {
      const b = step(a, 20, 60);
      const c = step(b, 20, 60);
      // Both hops take an hour: the faster one sets the limit exactly.
      const limit = Math.max(haversineKm(a, b), haversineKm(b, c));
      const ctx = ctxFor('sea', [], { maxSpeedKmh: limit });
      let s = checkSpoofing(initialSpoof, trusted, a, ctx).state;
      s = checkSpoofing(s, trusted, b, ctx).state;
      expect(s.run?.consistent).toBe(1);
      expect(checkSpoofing(s, trusted, c, ctx).flags).toEqual(['TRACK_RESUMED_ELSEWHERE']);
    });

    it('does not resume while the fixes stay within 5 km of where the run began', () => {
      const b = step(a, 1, 60);
      const { c } = run(b, step(b, 1, 60));
      // Back within 5 km of the run's first point: the same spoofing, still suspect.
      expect(c.flags).toEqual(['SPOOF_PINNED']);
      expect(c.suspect).toBe(true);
    });
  });
});

describe('lateFixImpossible', () => {
  const trusted = fixAt({ lat: -20, lon: 85 }, T0);
  const earlier = (km: number, ms: number) => fixAt(destinationPoint(trusted, 0, km), T0 - ms);

  it('is false without a trusted fix, for a hop of 5 km or less, and for a reachable late fix', () => {
    expect(lateFixImpossible(undefined, earlier(100, 0), sea)).toBe(false);
    expect(lateFixImpossible(trusted, earlier(4.9, 0), sea)).toBe(false);
    expect(lateFixImpossible(trusted, earlier(100, 2 * HOUR), sea)).toBe(false);
  });

  it('is true for a late fix the trusted one could not have reached, by speed over the time between them', () => {
    expect(lateFixImpossible(trusted, earlier(100, HOUR), sea)).toBe(true);
    expect(lateFixImpossible(trusted, earlier(6, 0), sea)).toBe(true);
    // A "late" fix newer than the trusted one counts its time the same way.
    expect(lateFixImpossible(trusted, fixAt(destinationPoint(trusted, 0, 100), T0 + 2 * HOUR), sea)).toBe(
      false,
    );
  });

  it('is false at exactly maxSpeedKmh and true just above it', () => {
    const f = earlier(30, HOUR / 2);
    const exact = 2 * haversineKm(trusted, f);
    expect(lateFixImpossible(trusted, f, ctxFor('sea', [], { maxSpeedKmh: exact }))).toBe(false);
    expect(lateFixImpossible(trusted, f, ctxFor('sea', [], { maxSpeedKmh: exact - 1e-9 }))).toBe(true);
  });
});
