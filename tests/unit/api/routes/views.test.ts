// The pure pieces behind the routers: site status, chip custody, the channel field rule (the corridor cache, which
// reads and writes the database: tests/integration/corridors.test.ts).
import { describe, expect, it } from 'vitest';
import { foreignField } from '../../../../src/api/channel-schemas.ts';
import { chipCustody, MAX_CUSTODY_ATTESTATIONS } from '../../../../src/api/chip-custody.ts';
import { siteStatus } from '../../../../src/api/site-view.ts';
import type { SiteRow } from '../../../../src/db/sites.ts';

const site = (over: Partial<SiteRow>): SiteRow => ({
  id: 'dc-a',
  name: 'A',
  endUser: null,
  lat: 0,
  lon: 0,
  radiusKm: 5,
  country: null,
  params: { siteSilentAfterS: 600 },
  createdAt: new Date(0),
  revokedAt: null,
  lastAttestedAt: null,
  lastSeq: null,
  lastLocation: null,
  lastLandmarks: null,
  lastChips: null,
  ...over,
});

describe('siteStatus', () => {
  const now = Date.parse('2026-11-21T10:00:00Z');
  it('is never_attested before the first attestation, revoked once revoked', () => {
    expect(siteStatus(site({}), now)).toBe('never_attested');
    expect(siteStatus(site({ revokedAt: new Date(now), lastAttestedAt: new Date(now) }), now)).toBe(
      'revoked',
    );
  });
  it('is active within the silence threshold and silent past it', () => {
    expect(siteStatus(site({ lastAttestedAt: new Date(now - 600_000) }), now)).toBe('active');
    expect(siteStatus(site({ lastAttestedAt: new Date(now - 600_001) }), now)).toBe('silent');
  });
});

describe('chipCustody', () => {
  const attestation = (i: number) => ({
    siteId: 'dc-a',
    at: new Date(i * 1000).toISOString(),
    seq: i,
    location: { lat: 0, lon: 0 },
    flags: [],
  });
  it('is undefined when no shipment carried and no site attested the chip', () => {
    expect(
      chipCustody('S', { shipments: [], newestAttestations: [], sites: [], alerts: [] }),
    ).toBeUndefined();
  });
  it('keeps the newest attestations, in time order, and says when older ones were left out', () => {
    const newestFirst = Array.from({ length: MAX_CUSTODY_ATTESTATIONS + 1 }, (_, i) =>
      attestation(MAX_CUSTODY_ATTESTATIONS - i),
    );
    const c = chipCustody('S', { shipments: [], newestAttestations: newestFirst, sites: [], alerts: [] })!;
    expect(c.attestationsTruncated).toBe(true);
    expect(c.attestations).toHaveLength(MAX_CUSTODY_ATTESTATIONS);
    expect(c.attestations[0]!.seq).toBe(1);
    expect(c.attestations.at(-1)!.seq).toBe(MAX_CUSTODY_ATTESTATIONS);
  });
});

describe('foreignField', () => {
  it('names the first field only another channel type has', () => {
    expect(foreignField({ url: 'https://x.example' }, 'email')).toEqual(['url', 'webhook']);
    expect(foreignField({ to: ['a@example.com'] }, 'email')).toBeUndefined();
    expect(foreignField({ topic: null }, 'webhook')).toEqual(['topic', 'mqtt']);
  });
});
