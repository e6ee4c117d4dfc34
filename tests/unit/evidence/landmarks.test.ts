// Attestations in a bundle: only the landmarks they cite travel with it, the verifier warns when one is absent,
// and each site is a sender of its own in the completeness section.
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { ATTESTATION_TYP, signCompactJws } from '../../../device-sim/signer.ts';
import { type BundleMessage, sealBundle, type UnsignedBundle } from '../../../src/evidence/bundle.ts';
import { completeness } from '../../../src/evidence/completeness.ts';
import { citedLandmarkIds, landmarksUsed } from '../../../src/evidence/landmarks.ts';
import { verifyBundle } from '../../../src/evidence/verify.ts';
import { bundle, HOUR, SEAL_KEY, T0 } from './fixtures.ts';

const siteKey = generateDeviceKey('ES256');
const LANDMARKS = [
  { id: 'lm-ams', lat: 52.3, lon: 4.9 },
  { id: 'lm-fra', lat: 50.1, lon: 8.7 },
  { id: 'lm-sin', lat: 1.3, lon: 103.8 },
];

function attestation(seq: number, landmarkIds: string[]): BundleMessage {
  const payload = {
    v: 1,
    siteId: 'dc-1',
    seq,
    sentAt: T0 + seq * HOUR,
    location: { lat: 52.3, lon: 4.94 },
    chips: ['GPU-1'],
    landmarks: landmarkIds.map((landmarkId) => ({ landmarkId, rttMs: 1.5 })),
  };
  return {
    kind: 'attestation',
    topic: 'chipwatch/v1/sites/dc-1/attestations',
    receivedAt: new Date(T0 + seq * HOUR + 500).toISOString(),
    jws: signCompactJws(payload, siteKey, ATTESTATION_TYP),
  };
}

function withAttestations(landmarks: { id: string; lat: number; lon: number }[]): UnsignedBundle {
  const u = bundle();
  u.shipment.chips = ['GPU-1'];
  u.keys.push({
    owner: 'site',
    ownerId: 'dc-1',
    kid: siteKey.kid,
    alg: siteKey.alg,
    publicJwk: siteKey.publicJwk as never,
    registeredAt: new Date(T0 - 1000).toISOString(),
    revokedAt: null,
  });
  u.messages.push(attestation(7, ['lm-ams']), attestation(9, ['lm-ams', 'lm-fra']));
  u.landmarks = landmarks;
  u.completeness = completeness(u.messages, u.shipment.reportIntervalS);
  return u;
}

describe('landmarks and site senders in a bundle', () => {
  it('keeps only the landmarks the attestations cite', () => {
    const messages = withAttestations([]).messages;
    expect(citedLandmarkIds(messages)).toEqual(['lm-ams', 'lm-fra']);
    expect(landmarksUsed(messages, LANDMARKS).map((l) => l.id)).toEqual(['lm-ams', 'lm-fra']);
  });

  it('a bundle with exactly the cited landmarks verifies; the site is a sender with its missing seq', () => {
    const u = withAttestations(landmarksUsed(withAttestations([]).messages, LANDMARKS));
    const r = verifyBundle(sealBundle(u, SEAL_KEY), { pinnedKey: SEAL_KEY.fingerprint });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.verdict).toBe('VERIFIED');
    expect(r.completeness.senders.map((s) => [s.sender, s.id, s.missing])).toEqual([
      ['device', 'trk-1', []],
      ['site', 'dc-1', [{ from: 8, to: 8 }]],
    ]);
  });

  it('a cited landmark the bundle does not carry is a warning', () => {
    const r = verifyBundle(sealBundle(withAttestations(LANDMARKS.slice(0, 1)), SEAL_KEY), {
      pinnedKey: SEAL_KEY.fingerprint,
    });
    expect(r.warnings).toEqual([
      'landmarks: attestations cite lm-fra, which the bundle does not carry: their RTT bounds cannot be checked',
    ]);
  });
});
