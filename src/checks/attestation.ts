// Data-center attestations checked against the registry and against physics, pure: a site's claim in, findings out.
// The physics (light's bound on a round trip, the feasible region) is in geo/feasible-region.ts.
import { LIGHT_KM_PER_MS, rttBoundKm } from '../geo/feasible-region.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { LatLon } from '../geo/types.ts';
import { round } from './format.ts';

export interface SiteInfo extends LatLon {
  id: string;
  radiusKm: number;
}

export interface LandmarkInfo extends LatLon {
  id: string;
}

export interface RttMeasurement {
  landmarkId: string;
  rttMs: number;
}

export interface RttViolation {
  landmarkId: string;
  landmark: LatLon;
  rttMs: number;
  boundKm: number;
  distanceKm: number;
}

/** Every landmark whose RTT proves the claimed location impossible; unknown landmark ids are listed apart. */
export function rttViolations(
  claim: LatLon,
  measurements: RttMeasurement[],
  landmarks: ReadonlyMap<string, LandmarkInfo>,
): { violations: RttViolation[]; unknown: string[] } {
  const violations: RttViolation[] = [];
  const unknown: string[] = [];
  for (const m of measurements) {
    const lm = landmarks.get(m.landmarkId);
    if (!lm) {
      unknown.push(m.landmarkId);
      continue;
    }
    const boundKm = rttBoundKm(m.rttMs);
    const distanceKm = haversineKm(lm, claim);
    if (distanceKm > boundKm) {
      violations.push({
        landmarkId: lm.id,
        landmark: { lat: lm.lat, lon: lm.lon },
        rttMs: m.rttMs,
        boundKm: round(boundKm, 1),
        distanceKm: round(distanceKm, 1),
      });
    }
  }
  return { violations, unknown };
}

/** How far the claimed location lies from the registered site, and whether that is outside its radius. */
export function locationMismatch(site: SiteInfo, claim: LatLon): { distanceKm: number } | undefined {
  const distanceKm = haversineKm(site, claim);
  return distanceKm > site.radiusKm ? { distanceKm: round(distanceKm, 2) } : undefined;
}

/** Where the custody records say a serial should be. */
export interface ChipExpectation {
  shipmentId: string;
  /** The destination site, when the shipment named one. */
  siteId: string | null;
  /** The destination place, when it was a place. */
  place: (LatLon & { radiusKm: number }) | null;
}

export interface UnexpectedChip {
  serial: string;
  reason:
    | 'no shipment carried it'
    | 'its shipment was bound for another site'
    | 'its shipment was bound elsewhere';
  shipmentId?: string;
  expectedSiteId?: string;
}

/** Serials attested at `site` that custody does not put there. */
export function unexpectedChips(
  site: SiteInfo,
  serials: string[],
  expected: ReadonlyMap<string, ChipExpectation>,
): UnexpectedChip[] {
  const out: UnexpectedChip[] = [];
  for (const serial of serials) {
    const e = expected.get(serial);
    if (!e) out.push({ serial, reason: 'no shipment carried it' });
    else if (e.siteId !== null && e.siteId !== site.id) {
      out.push({
        serial,
        reason: 'its shipment was bound for another site',
        shipmentId: e.shipmentId,
        expectedSiteId: e.siteId,
      });
    } else if (
      e.siteId === null &&
      e.place &&
      haversineKm(e.place, site) > e.place.radiusKm + site.radiusKm
    ) {
      out.push({ serial, reason: 'its shipment was bound elsewhere', shipmentId: e.shipmentId });
    }
  }
  return out;
}

/** A serial's latest attestation elsewhere. */
export interface SightingElsewhere extends LatLon {
  siteId: string;
  serial: string;
  at: number;
}

export interface ImpossibleTravel {
  serial: string;
  otherSiteId: string;
  otherAt: number;
  distanceKm: number;
  seconds: number;
  maxKm: number;
}

/**
 * The same serial attested at two sites farther apart than it could travel between the two attestations. The
 * absolute bound is light; `maxTravelKmh` (default: light) lets an operator use the speed of the fastest freight.
 */
export function impossibleTravel(
  here: LatLon,
  at: number,
  sightings: SightingElsewhere[],
  maxTravelKmh = LIGHT_KM_PER_MS * 3_600_000,
): ImpossibleTravel[] {
  const out: ImpossibleTravel[] = [];
  for (const s of sightings) {
    const seconds = Math.abs(at - s.at) / 1000;
    const maxKm = (maxTravelKmh * seconds) / 3600;
    const distanceKm = haversineKm(here, s);
    if (distanceKm > maxKm) {
      out.push({
        serial: s.serial,
        otherSiteId: s.siteId,
        otherAt: s.at,
        distanceKm: round(distanceKm, 1),
        seconds: round(seconds, 3),
        maxKm: round(maxKm, 1),
      });
    }
  }
  return out;
}

/** Serials delivered to the site that its attestations have not shown for longer than `afterMs`. */
export function missingChips(
  delivered: { serial: string; shipmentId: string; since: number }[],
  lastSeen: ReadonlyMap<string, number>,
  now: number,
  afterMs: number,
): { serial: string; shipmentId: string; absentSince: number }[] {
  return delivered.flatMap((d) => {
    const seen = lastSeen.get(d.serial);
    // Seen before this delivery (an earlier shipment of the same serial) does not count as present now.
    const absentSince = Math.max(seen ?? d.since, d.since);
    return now - absentSince > afterMs ? [{ ...d, absentSince }] : [];
  });
}
