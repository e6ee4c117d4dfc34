// Site checks inside the batch's transaction, one attestation at a time in batch order (each sees the sightings
// and the latest attestation of the ones before it): read the context, run the pure checks (src/checks/site.ts),
// then store the attestation, its chip sightings and the installs it completes.

import { checkAttestation, isNewest, type SiteContext } from '../../checks/site.ts';
import { siteParams } from '../../checks/site-params.ts';
import { lockSerialBuckets } from '../../db/chip-locks.ts';
import { landmarksById } from '../../db/landmarks.ts';
import type { PoolClient } from '../../db/pool.ts';
import {
  type AttestationRow,
  chipExpectations,
  deliveredChips,
  getSite,
  insertAttestation,
  lastSeenAt,
  markInstalled,
  recordChipSightings,
  saveSiteLatest,
  sightingsElsewhere,
} from '../../db/sites.ts';
import type { SubjectEvent } from '../../domain/alerts.ts';

export async function siteChecks(c: PoolClient, attestations: AttestationRow[]): Promise<SubjectEvent[]> {
  const events: SubjectEvent[] = [];
  for (const row of attestations) {
    const ctx = await readContext(c, row);
    if (ctx) {
      const result = checkAttestation(
        {
          siteId: row.siteId,
          seq: row.seq,
          at: row.sentAt,
          claim: { lat: row.lat, lon: row.lon },
          chips: row.chips,
          landmarks: row.landmarks,
        },
        ctx,
      );
      row.flags.push(...result.flags);
      events.push(...result.events);
      await recordChipSightings(c, row.siteId, row.chips, row.sentAt);
      await markInstalled(c, row.siteId, row.chips, row.sentAt);
    }
    await insertAttestation(c, row);
    await saveSiteLatest(c, row);
  }
  return events;
}

/** Everything the checks of one attestation read; undefined when the site is not registered. */
async function readContext(c: PoolClient, row: AttestationRow): Promise<SiteContext | undefined> {
  const site = await getSite(c, row.siteId);
  if (!site) return undefined;
  const lastAttestedAt = site.lastAttestedAt?.getTime() ?? null;
  // Two workers taking attestations of the same serial from two sites at once would each miss the other's
  // uncommitted sighting: serialise them per serial bucket, so the second reads the first's once committed.
  await lockSerialBuckets(c, row.chips);
  const delivered = isNewest({ at: row.sentAt }, lastAttestedAt) ? await deliveredChips(c, site.id) : [];
  return {
    site: { id: site.id, lat: site.lat, lon: site.lon, radiusKm: site.radiusKm },
    params: siteParams(site.params),
    lastAttestedAt,
    landmarks: await landmarksById(
      c,
      row.landmarks.map((l) => l.landmarkId),
    ),
    expectations: await chipExpectations(c, row.chips),
    sightingsElsewhere: await sightingsElsewhere(c, site.id, row.chips),
    delivered,
    lastSeen: await lastSeenAt(
      c,
      site.id,
      delivered.map((d) => d.serial),
    ),
  };
}
