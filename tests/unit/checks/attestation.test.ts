// The site checks with real geography: landmarks in Amsterdam, Frankfurt, Singapore and Tokyo; a data center in
// Amsterdam that tells the truth, one whose RTTs only a site in Asia could measure, and one behind a slow relay.
import { describe, expect, it } from 'vitest';
import {
  impossibleTravel,
  type LandmarkInfo,
  locationMismatch,
  missingChips,
  rttViolations,
  unexpectedChips,
} from '../../../src/checks/attestation.ts';
import {
  feasibleRegion,
  LIGHT_KM_PER_MS,
  rttBoundKm,
  samplePoints,
} from '../../../src/geo/feasible-region.ts';
import { haversineKm } from '../../../src/geo/spherical.ts';
import type { LatLon } from '../../../src/geo/types.ts';

const LM: Record<string, LandmarkInfo> = {
  'lm-ams': { id: 'lm-ams', lat: 52.3676, lon: 4.9041 },
  'lm-fra': { id: 'lm-fra', lat: 50.1109, lon: 8.6821 },
  'lm-sin': { id: 'lm-sin', lat: 1.3521, lon: 103.8198 },
  'lm-tyo': { id: 'lm-tyo', lat: 35.6762, lon: 139.6503 },
};
const landmarks = new Map(Object.entries(LM));
const AMSTERDAM_DC = { id: 'dc-ams-01', lat: 52.3, lon: 4.94, radiusKm: 5 };
const SHENZHEN = { lat: 22.54, lon: 114.06 };

/** RTTs an honest site at `p` measures: light in fibre (≈ 200 km/ms) over a path 1.5× the great circle, + 0.3 ms. */
const honestRtts = (p: LatLon, extraMs = 0) =>
  Object.values(LM).map((l) => ({
    landmarkId: l.id,
    rttMs: (2 * haversineKm(l, p) * 1.5) / 200 + 0.3 + extraMs,
  }));

describe('ATTESTATION_RTT_IMPLAUSIBLE: light in vacuum bounds the distance to each landmark', () => {
  it('the bound is 299.79/2 km per ms of round trip', () => {
    expect(rttBoundKm(1)).toBeCloseTo(149.896, 3);
    expect(rttBoundKm(10)).toBeCloseTo(1498.96, 1);
  });

  it('an Amsterdam site claiming Amsterdam with the RTTs it really measures is plausible', () => {
    const r = rttViolations(AMSTERDAM_DC, honestRtts(AMSTERDAM_DC), landmarks);
    expect(r).toEqual({ violations: [], unknown: [] });
  });

  it('a site in Shenzhen claiming Amsterdam is caught by the Singapore and Tokyo RTTs, with the numbers', () => {
    const r = rttViolations(AMSTERDAM_DC, honestRtts(SHENZHEN), landmarks);
    expect(r.violations.map((v) => v.landmarkId).sort()).toEqual(['lm-sin', 'lm-tyo']);
    const sin = r.violations.find((v) => v.landmarkId === 'lm-sin')!;
    // Singapore ↔ Shenzhen ≈ 2,600 km: RTT ≈ 39.5 ms, which light allows ≈ 5,900 km; Amsterdam is ≈ 10,500 km away.
    expect(sin.rttMs).toBeGreaterThan(35);
    expect(sin.boundKm).toBeCloseTo(rttBoundKm(sin.rttMs), 0);
    expect(sin.distanceKm).toBeGreaterThan(10_000);
    expect(sin.distanceKm).toBeGreaterThan(sin.boundKm);
    expect(sin.landmark).toEqual({ lat: LM['lm-sin']!.lat, lon: LM['lm-sin']!.lon });
  });

  it('a relay that adds latency never triggers the alert: added delay never proves distance', () => {
    for (const extra of [5, 40, 150, 400]) {
      expect(rttViolations(AMSTERDAM_DC, honestRtts(AMSTERDAM_DC, extra), landmarks).violations).toEqual([]);
    }
  });

  it('the fibre estimate is never used to accuse: an RTT fast for fibre but possible for light passes', () => {
    // Amsterdam → Frankfurt ≈ 363 km: fibre (100 km per ms of RTT) would need 3.6 ms, light needs 2.42 ms.
    const d = haversineKm(LM['lm-fra']!, AMSTERDAM_DC);
    const rtt = (2 * d) / LIGHT_KM_PER_MS + 0.05;
    expect(rtt).toBeLessThan(d / 100);
    expect(rttViolations(AMSTERDAM_DC, [{ landmarkId: 'lm-fra', rttMs: rtt }], landmarks).violations).toEqual(
      [],
    );
    expect(
      rttViolations(AMSTERDAM_DC, [{ landmarkId: 'lm-fra', rttMs: rtt - 0.1 }], landmarks).violations,
    ).toHaveLength(1);
  });

  it('unknown landmarks are listed, not used', () => {
    const r = rttViolations(AMSTERDAM_DC, [{ landmarkId: 'lm-nowhere', rttMs: 0.1 }], landmarks);
    expect(r).toEqual({ violations: [], unknown: ['lm-nowhere'] });
  });
});

describe('ATTESTATION_LOCATION_MISMATCH', () => {
  it('fires outside the registered radius only', () => {
    expect(locationMismatch(AMSTERDAM_DC, { lat: 52.31, lon: 4.95 })).toBeUndefined();
    const m = locationMismatch(AMSTERDAM_DC, { lat: 52.52, lon: 13.4 }); // Berlin
    expect(m?.distanceKm).toBeGreaterThan(500);
  });
});

const disksFor = (rtts: { landmarkId: string; rttMs: number }[]) =>
  rtts.map((m) => ({ ...LM[m.landmarkId]!, landmarkId: m.landmarkId, radiusKm: rttBoundKm(m.rttMs) }));

const inPolygon = (p: LatLon, ring: number[][]) => {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi! > p.lat !== yj! > p.lat && p.lon < ((xj! - xi!) * (p.lat - yi!)) / (yj! - yi!) + xi!)
      inside = !inside;
  }
  return inside;
};

describe('the feasible region: the intersection of the light disks', () => {
  it('contains the true site and lies within the smallest disk', () => {
    const rtts = honestRtts(AMSTERDAM_DC);
    const region = feasibleRegion(disksFor(rtts));
    expect(region.kind).toBe('region');
    if (region.kind !== 'region') return;
    const ring = region.polygon.coordinates[0]!;
    expect(ring[0]).toEqual(ring.at(-1));
    expect(inPolygon(AMSTERDAM_DC, ring)).toBe(true);
    const amsBound = rttBoundKm(rtts[0]!.rttMs);
    for (const [lon, lat] of ring)
      expect(haversineKm(LM['lm-ams']!, { lat: lat!, lon: lon! })).toBeLessThan(amsBound + 1);
    // Far places are outside.
    expect(inPolygon({ lat: 48.86, lon: 2.35 }, ring)).toBe(false); // Paris, 430 km away
  });

  it('for a site in Shenzhen it contains Shenzhen, not Amsterdam', () => {
    const region = feasibleRegion(disksFor(honestRtts(SHENZHEN)));
    expect(region.kind).toBe('region');
    if (region.kind !== 'region') return;
    const ring = region.polygon.coordinates[0]!;
    expect(inPolygon(SHENZHEN, ring)).toBe(true);
    expect(inPolygon(AMSTERDAM_DC, ring)).toBe(false);
    expect(samplePoints(region.polygon).length).toBeGreaterThan(10);
  });

  it('is empty when no place fits every RTT', () => {
    const region = feasibleRegion(
      disksFor([
        { landmarkId: 'lm-ams', rttMs: 1 },
        { landmarkId: 'lm-sin', rttMs: 1 },
      ]),
    );
    expect(region.kind).toBe('empty');
  });

  it('is the small disk itself when it lies inside all others', () => {
    const region = feasibleRegion(
      disksFor([
        { landmarkId: 'lm-ams', rttMs: 0.5 },
        { landmarkId: 'lm-fra', rttMs: 20 },
      ]),
    );
    expect(region.kind).toBe('region');
  });

  it('finds a sliver of overlap a few km wide between two large disks', () => {
    const ams = LM['lm-ams']!;
    const tyo = LM['lm-tyo']!;
    const d = haversineKm(ams, tyo);
    const region = feasibleRegion([
      { ...ams, landmarkId: 'lm-ams', radiusKm: 6000 },
      { ...tyo, landmarkId: 'lm-tyo', radiusKm: d - 6000 + 2 },
    ]);
    expect(region.kind).toBe('region');
  });

  it('closes a region around the North Pole over the pole, and it still contains its landmark', () => {
    // 30 ms from Amsterdam: a 4,500 km disk that holds the pole.
    const region = feasibleRegion(disksFor([{ landmarkId: 'lm-ams', rttMs: 30 }]));
    expect(region.kind).toBe('region');
    if (region.kind !== 'region') return;
    const ring = region.polygon.coordinates[0]!;
    expect(ring.some(([, lat]) => lat === 90)).toBe(true);
    expect(inPolygon(AMSTERDAM_DC, ring)).toBe(true);
    expect(inPolygon({ lat: 85, lon: 100 }, ring)).toBe(true);
    expect(inPolygon({ lat: 10, lon: 100 }, ring)).toBe(false);
    const samples = samplePoints(region.polygon);
    expect(samples.some((p) => haversineKm(p, AMSTERDAM_DC) < 500)).toBe(true);
  });

  it('is unbounded when every RTT allows more than a hemisphere', () => {
    expect(feasibleRegion(disksFor([{ landmarkId: 'lm-ams', rttMs: 200 }])).kind).toBe('unbounded');
  });
});

describe('CHIP_AT_UNEXPECTED_SITE', () => {
  const expected = new Map([
    ['GPU-0001', { shipmentId: 'shp-1', siteId: 'dc-ams-01', place: null }],
    ['GPU-0002', { shipmentId: 'shp-2', siteId: 'dc-fra-01', place: null }],
    ['GPU-0003', { shipmentId: 'shp-3', siteId: null, place: { lat: 52.3, lon: 4.9, radiusKm: 30 } }],
    ['GPU-0004', { shipmentId: 'shp-4', siteId: null, place: { lat: 1.35, lon: 103.8, radiusKm: 30 } }],
  ]);
  it('names serials bound for another site, bound elsewhere, or carried by no shipment', () => {
    const out = unexpectedChips(
      AMSTERDAM_DC,
      ['GPU-0001', 'GPU-0002', 'GPU-0003', 'GPU-0004', 'GPU-9999'],
      expected,
    );
    expect(out).toEqual([
      {
        serial: 'GPU-0002',
        reason: 'its shipment was bound for another site',
        shipmentId: 'shp-2',
        expectedSiteId: 'dc-fra-01',
      },
      { serial: 'GPU-0004', reason: 'its shipment was bound elsewhere', shipmentId: 'shp-4' },
      { serial: 'GPU-9999', reason: 'no shipment carried it' },
    ]);
  });

  it('the same serial at two sites farther apart than light allows in the time between', () => {
    const tokyo = { siteId: 'dc-tyo-01', serial: 'GPU-0001', lat: 35.68, lon: 139.65, at: 1_000_000 };
    // Amsterdam ↔ Tokyo ≈ 9,300 km: light needs 31 ms.
    expect(impossibleTravel(AMSTERDAM_DC, 1_000_010, [tokyo])).toHaveLength(1);
    expect(impossibleTravel(AMSTERDAM_DC, 1_000_040, [tokyo])).toEqual([]);
    // With the fastest freight (1,200 km/h) an hour is far too short, 9 hours enough.
    expect(impossibleTravel(AMSTERDAM_DC, 1_000_000 + 3_600_000, [tokyo], 1200)).toHaveLength(1);
    expect(impossibleTravel(AMSTERDAM_DC, 1_000_000 + 9 * 3_600_000, [tokyo], 1200)).toEqual([]);
  });
});

describe('CHIP_MISSING', () => {
  const H = 3_600_000;
  const delivered = [
    { serial: 'A', shipmentId: 's', since: 0 },
    { serial: 'B', shipmentId: 's', since: 0 },
  ];
  it('a delivered serial absent longer than the threshold is missing; one seen recently is not', () => {
    const out = missingChips(delivered, new Map([['A', 9 * H]]), 10 * H, 6 * H);
    expect(out.map((m) => m.serial)).toEqual(['B']);
    expect(out[0]!.absentSince).toBe(0);
  });
  it('nothing is missing before the threshold', () => {
    expect(missingChips(delivered, new Map(), 5 * H, 6 * H)).toEqual([]);
  });
});
