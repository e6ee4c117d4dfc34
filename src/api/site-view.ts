// What the API shows of a site: its status, its summary, and the region its latest RTTs allow. Pure: the router
// reads the rows and passes them in.
import type { LandmarkInfo } from '../checks/attestation.ts';
import { siteParams } from '../checks/site-params.ts';
import type { SiteRow } from '../db/sites.ts';
import { feasibleRegion, rttBoundKm, samplePoints } from '../geo/feasible-region.ts';
import type { ZoneIndex } from '../geo/types.ts';

export type SiteStatus = 'never_attested' | 'active' | 'silent' | 'revoked';

/** A site is `active` while it attests within its silence threshold. */
export function siteStatus(s: SiteRow, nowMs: number): SiteStatus {
  if (s.revokedAt) return 'revoked';
  if (!s.lastAttestedAt) return 'never_attested';
  const silentAfterMs = siteParams(s.params).siteSilentAfterS * 1000;
  return nowMs - s.lastAttestedAt.getTime() > silentAfterMs ? 'silent' : 'active';
}

export function siteSummary(s: SiteRow, nowMs = Date.now()) {
  return {
    id: s.id,
    name: s.name,
    endUser: s.endUser,
    lat: s.lat,
    lon: s.lon,
    radiusKm: s.radiusKm,
    country: s.country,
    params: s.params,
    status: siteStatus(s, nowMs),
    createdAt: s.createdAt.toISOString(),
    lastAttestation: s.lastAttestedAt
      ? {
          at: s.lastAttestedAt.toISOString(),
          seq: s.lastSeq,
          location: s.lastLocation,
          landmarks: s.lastLandmarks,
        }
      : null,
    chipsAttested: s.lastChips?.length ?? 0,
  };
}

/** Landmark ids the site's latest attestation measured. */
export const measuredLandmarkIds = (site: SiteRow) => (site.lastLandmarks ?? []).map((m) => m.landmarkId);

/**
 * Where the latest RTTs allow the site to be: the intersection of the disks (landmark, RTT bound), with the
 * restricted zones it touches (information, not an alert). Null before the first attestation.
 */
export function siteRegion(site: SiteRow, landmarks: Map<string, LandmarkInfo>, zones: ZoneIndex) {
  const disks = (site.lastLandmarks ?? []).flatMap((m) => {
    const lm = landmarks.get(m.landmarkId);
    return lm ? [{ landmarkId: lm.id, lat: lm.lat, lon: lm.lon, radiusKm: rttBoundKm(m.rttMs) }] : [];
  });
  if (!site.lastAttestedAt) return null;
  const region = feasibleRegion(disks);
  const touches = new Map<string, { id: string; name: string; tier: string }>();
  if (region.kind === 'region') {
    for (const p of samplePoints(region.polygon)) {
      for (const z of zones.zonesAt(p)) {
        if (z.tier === 'restricted' || z.tier === 'licenseRequired')
          touches.set(z.id, { id: z.id, name: z.name, tier: z.tier });
      }
    }
  }
  return {
    kind: region.kind,
    disks: disks.map((d) => ({ ...d, radiusKm: Math.round(d.radiusKm * 10) / 10 })),
    geometry: region.kind === 'region' ? region.polygon : null,
    ...('note' in region && region.note ? { note: region.note } : {}),
    restrictedZonesTouched: [...touches.values()],
    intersectsRestricted: [...touches.values()].some((z) => z.tier === 'restricted'),
    bound: 'light in vacuum: 299.79 km/ms ÷ 2 per ms of RTT',
  };
}
