// Every check of one accepted attestation, pure: the site's claimed location against its registration, each RTT
// against light, each serial against custody and against its sightings elsewhere, and delivered serials gone
// missing. The ingest reads the context first (src/ingest/stages/site-checks.ts) and writes after.

import type { AlertType, SubjectEvent } from '../domain/alerts.ts';
import type { LatLon } from '../geo/types.ts';
import {
  type ChipExpectation,
  impossibleTravel,
  type LandmarkInfo,
  locationMismatch,
  missingChips,
  rttViolations,
  type SightingElsewhere,
  type SiteInfo,
  unexpectedChips,
} from './attestation.ts';
import type { SiteParams } from './site-params.ts';

/** What the attestation claims (its signed payload). */
export interface AttestationClaim {
  siteId: string;
  seq: number;
  /** The site's `sentAt`: the device time of the evidence. */
  at: number;
  claim: LatLon;
  chips: string[];
  landmarks: { landmarkId: string; rttMs: number }[];
}

/** What chipwatch knows when the attestation arrives, read before any of its writes. */
export interface SiteContext {
  site: SiteInfo;
  params: SiteParams;
  /** The site's newest attestation so far (epoch ms), null before its first. */
  lastAttestedAt: number | null;
  landmarks: ReadonlyMap<string, LandmarkInfo>;
  expectations: ReadonlyMap<string, ChipExpectation>;
  sightingsElsewhere: SightingElsewhere[];
  /** Serials delivered to the site (read only for its newest attestation). */
  delivered: { serial: string; shipmentId: string; since: number }[];
  /** When each delivered serial was last attested here, before this attestation. */
  lastSeen: ReadonlyMap<string, number>;
}

export interface SiteCheckResult {
  events: SubjectEvent[];
  flags: string[];
}

/** Only the site's newest attestation says what runs there now: a late or backdated one neither raises nor clears CHIP_MISSING. */
export function isNewest(a: Pick<AttestationClaim, 'at'>, lastAttestedAt: number | null): boolean {
  return lastAttestedAt === null || a.at >= lastAttestedAt;
}

export function checkAttestation(a: AttestationClaim, ctx: SiteContext): SiteCheckResult {
  const { site, params } = ctx;
  const { claim, at } = a;
  const events: SubjectEvent[] = [];
  const flags: string[] = [];
  const raise = (type: AlertType, subject: string, details: Record<string, unknown>, siteId = site.id) =>
    events.push({ type, action: 'raise', at, subject, shipmentId: null, deviceId: null, siteId, details });
  const resolve = (type: AlertType, subject: string, reason: string) =>
    events.push({
      type,
      action: 'resolve',
      at,
      subject,
      shipmentId: null,
      deviceId: null,
      siteId: site.id,
      details: { reason },
    });

  const mismatch = locationMismatch(site, claim);
  if (mismatch) {
    flags.push('LOCATION_MISMATCH');
    raise('ATTESTATION_LOCATION_MISMATCH', `site:${site.id}`, {
      seq: a.seq,
      claimed: claim,
      registered: { lat: site.lat, lon: site.lon },
      radiusKm: site.radiusKm,
      distanceKm: mismatch.distanceKm,
    });
  }

  const rtt = rttViolations(claim, a.landmarks, ctx.landmarks);
  if (rtt.unknown.length > 0) flags.push('UNKNOWN_LANDMARK');
  if (rtt.violations.length > 0) {
    flags.push('RTT_IMPLAUSIBLE');
    raise('ATTESTATION_RTT_IMPLAUSIBLE', `site:${site.id}`, {
      seq: a.seq,
      claimed: claim,
      violations: rtt.violations,
      rule: 'distance from landmark > RTT × 299.79 km/ms ÷ 2 (light in vacuum)',
    });
  }

  const unexpected = unexpectedChips(site, a.chips, ctx.expectations);
  if (unexpected.length > 0) {
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${site.id}`, {
      seq: a.seq,
      serials: unexpected.map((u) => u.serial),
      chips: unexpected.slice(0, 100),
    });
  }
  for (const t of impossibleTravel(claim, at, ctx.sightingsElsewhere, params.chipMaxTravelKmh)) {
    const details = {
      seq: a.seq,
      serials: [t.serial],
      reason: 'attested at two sites farther apart than it could travel',
      ...t,
      siteId: site.id,
    };
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${site.id}`, details);
    raise('CHIP_AT_UNEXPECTED_SITE', `site:${t.otherSiteId}`, details, t.otherSiteId);
  }

  // This attestation is itself a sighting of its chips: their last-seen time here is at least `at`.
  const lastSeen = new Map(ctx.lastSeen);
  for (const serial of a.chips) lastSeen.set(serial, Math.max(lastSeen.get(serial) ?? at, at));
  const missing = missingChips(ctx.delivered, lastSeen, at, params.chipMissingAfterS * 1000);
  if (missing.length > 0) {
    raise('CHIP_MISSING', `site:${site.id}:chips`, {
      seq: a.seq,
      serials: missing.map((m) => m.serial),
      chips: missing.slice(0, 100).map((m) => ({ ...m, absentSince: new Date(m.absentSince).toISOString() })),
      afterS: params.chipMissingAfterS,
    });
  } else if (ctx.delivered.length > 0) {
    resolve('CHIP_MISSING', `site:${site.id}:chips`, 'every delivered serial attested again');
  }
  if (isNewest(a, ctx.lastAttestedAt))
    resolve('CHIP_MISSING', `site:${site.id}:silent`, 'the site attests again');
  return { events, flags };
}
