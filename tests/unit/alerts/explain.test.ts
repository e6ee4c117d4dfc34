import { describe, expect, it } from 'vitest';
import { EXPLAINED_TYPES, explainAlert } from '../../../src/alerts/explain.ts';
import { SEVERITY } from '../../../src/domain/alerts.ts';

const fix = { ts: '2026-03-02T14:05:09.000Z', lat: 18.6, lon: 109.6 };

describe('explainAlert', () => {
  it('has a sentence for every alert type of the domain', () => {
    expect(EXPLAINED_TYPES.sort()).toEqual(Object.keys(SEVERITY).sort());
  });

  it('says which country a shipment entered, where, when, and how far off its route', () => {
    const text = explainAlert({
      type: 'RESTRICTED_ZONE_ENTERED',
      shipmentId: 'shp-1',
      details: {
        zoneId: 'CN',
        zoneName: 'China',
        tier: 'restricted',
        country: 'CN',
        via: 'fix',
        fix,
        crossTrackKm: 412.3,
      },
    });
    expect(text).toContain('A signed fix placed shipment shp-1 inside China (CN), a restricted destination');
    expect(text).toContain('18.600° N, 109.600° E at 2026-03-02 14:05 UTC');
    expect(text).toContain('412 km from the planned route');
  });

  it('tells a border crossed between two fixes from a fix inside', () => {
    const text = explainAlert({
      type: 'RESTRICTED_ZONE_ENTERED',
      shipmentId: 'shp-1',
      details: { zoneName: 'Russia', tier: 'restricted', via: 'segment', from: { lat: 60, lon: 27 }, fix },
    });
    expect(text).toMatch(/^Between two signed fixes, shipment shp-1 crossed into Russia/);
    expect(text).toContain('the last fix outside was 60.000° N, 27.000° E');
  });

  it('projects a diversion: course, speed, distance and hours to the border, and the look-ahead', () => {
    const text = explainAlert({
      type: 'DIVERSION_TOWARD_RESTRICTED',
      shipmentId: 'shp-2',
      details: {
        reason: 'course',
        zoneName: 'China',
        crossTrackKm: 120,
        speedKmh: 35,
        courseDeg: 250,
        withinKm: 180,
        etaHours: 5.1,
        horizonHours: 12,
        fix,
      },
    });
    expect(text).toContain('120 km off the planned corridor');
    expect(text).toContain('course of 250° at 35 km/h that reaches China');
    expect(text).toContain(
      'crosses that border in 180 km, about 5.1 hours away at that speed (chipwatch looks 12 hours ahead)',
    );
  });

  it('names the corridor, the distance and the fixes in a row of a route deviation', () => {
    const text = explainAlert({
      type: 'ROUTE_DEVIATION',
      shipmentId: 'shp-3',
      details: {
        crossTrackKm: 88.4,
        maxCrossTrackKm: 95,
        corridorKm: 50,
        outsideSince: '2026-03-02T10:00:00Z',
        fixesOutside: 4,
        fix,
      },
    });
    expect(text).toContain(
      'left its planned corridor of 50 km either side of the route and is 88.4 km from the route',
    );
    expect(text).toContain('since 2026-03-02 10:00 UTC, 4 fixes in a row');
  });

  it('explains a stop against its threshold, shorter at a watched hub', () => {
    const text = explainAlert({
      type: 'UNPLANNED_STOP',
      shipmentId: 's',
      details: {
        lat: 1.26,
        lon: 103.8,
        country: 'SG',
        since: '2026-03-01T00:00:00Z',
        stoppedMinutes: 300,
        thresholdMinutes: 120,
        watchZone: { id: 'SG', name: 'Singapore' },
      },
    });
    expect(text).toContain('(SG) for 5 hours');
    expect(text).toContain(
      'The limit there is 2 hours, shorter because Singapore is a known transshipment hub',
    );
  });

  it('explains refused messages, sites and chips in their own words', () => {
    expect(
      explainAlert({ type: 'REPLAY', deviceId: 'trk-1', count: 3, details: { seq: 41, kid: 'k1' } }),
    ).toContain('A message in the name of tracker trk-1 (seq 41), key k1 reused a sequence number');
    expect(
      explainAlert({
        type: 'ATTESTATION_RTT_IMPLAUSIBLE',
        siteId: 'dc-1',
        details: {
          claimed: { lat: 52.3, lon: 4.94 },
          violations: [{ landmarkId: 'lm-sin', rttMs: 2, boundKm: 299.8, distanceKm: 10_500 }],
        },
      }),
    ).toContain(
      'Landmark lm-sin answered in 2 ms, so the site lies within 300 km of it; the claimed place is 10,500 km away',
    );
    expect(
      explainAlert({
        type: 'CHIP_MISSING',
        siteId: 'dc-1',
        details: {
          reason: 'the site stopped attesting',
          lastAttestedAt: '2026-03-01T00:00:00Z',
          silentMinutes: 90,
        },
      }),
    ).toContain(
      'Site dc-1 stopped attesting: its last attestation was at 2026-03-01 00:00 UTC, 1.5 hours ago',
    );
  });

  it('says why a track is suspected spoofed, and that its positions no longer drive the checks', () => {
    const text = explainAlert({
      type: 'SPOOFING_SUSPECTED',
      shipmentId: 's',
      details: { flags: ['TOO_REGULAR'], windowFixes: 12, positionNoiseMedianM: 0.4, fix },
    });
    expect(text).toMatch(/^Shipment s reports a track too regular to come from a real receiver/);
    expect(text).toContain('Over 12 fixes the positions wander by 0.4 m');
    expect(
      explainAlert({
        type: 'SPOOFING_SUSPECTED',
        shipmentId: 's',
        details: {
          flags: ['SPEED_IMPOSSIBLE', 'NEW_FLAG'],
          jumpKm: 900,
          impliedSpeedKmh: 1800,
          maxSpeedKmh: 80,
          fix,
          zoneName: 'Iran',
          drivesChecks: false,
        },
      }),
    ).toMatch(/It jumped 900 km, implying 1,800 km\/h where 80 km\/h .*Also flagged: NEW_FLAG.*lies in Iran/);
  });

  it('falls back to a generic sentence for details it does not understand, or an unknown type', () => {
    expect(explainAlert({ type: 'ROUTE_DEVIATION', shipmentId: 's', details: { renamed: 1 } })).toBe(
      'chipwatch raised “route deviation” for shipment s. Its details are not in a form this version explains: read them in full below.',
    );
    expect(explainAlert({ type: 'NEW_KIND', siteId: 'x', details: null })).toMatch(
      /^chipwatch raised “new kind” for site x/,
    );
    // A field of the wrong type never throws.
    expect(() =>
      explainAlert({ type: 'SPOOFING_SUSPECTED', details: { flags: 'x', fix: { lat: 'a' } } }),
    ).not.toThrow();
  });
});
