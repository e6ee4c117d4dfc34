// The evidence bundle: everything a third party needs to check a shipment's story without trusting chipwatch —
// the signed messages exactly as received, the public keys with when they were valid, the alerts with their
// hash-chained audit trail, the policy it was checked against — and a digest over all of it.

import type { AlertView } from '../domain/alerts.ts';
import type { PublicJwk, SigningAlg } from '../verify/keys.ts';
import { type AuditEntry, canonicalJson, sha256Hex } from './canonical.ts';
import type { Completeness } from './completeness.ts';
import type { BundlePolicy } from './policy-audit.ts';
import { type Seal, type SealKey, sealDigest } from './seal.ts';

export const BUNDLE_FORMAT = 'chipwatch-evidence/1';

export interface BundleKey {
  /** `device` keys sign telemetry, `site` keys sign attestations. */
  owner: 'device' | 'site';
  ownerId: string;
  kid: string;
  alg: SigningAlg;
  publicJwk: PublicJwk;
  registeredAt: string;
  revokedAt: string | null;
}

export interface BundleMessage {
  kind: 'telemetry' | 'attestation';
  topic: string;
  receivedAt: string;
  /** The compact JWS as received. */
  jws: string;
}

/** An alert as the API shows it, with its hash-chained audit trail (null hashes: rows written before chaining). */
export interface BundleAlert extends AlertView {
  audit: (AuditEntry & { hash: string | null })[];
}

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  generatedAt: string;
  generatedBy: string;
  shipment: {
    id: string;
    reference: string | null;
    deviceId: string;
    mode: string;
    status: string;
    origin: unknown;
    destination: unknown;
    chips: string[];
    reportIntervalS: number;
    routeLengthKm: number;
    createdAt: string;
    startedAt: string | null;
    arrivedAt: string | null;
    installedAt: string | null;
  };
  sites: { id: string; name: string; lat: number; lon: number; radiusKm: number; country: string | null }[];
  landmarks: { id: string; lat: number; lon: number }[];
  keys: BundleKey[];
  messages: BundleMessage[];
  alerts: BundleAlert[];
  /**
   * Per sender: seq range, every missing seq, gaps in time (src/evidence/completeness.ts). Optional in format 1:
   * bundles written before it lack it, and the verifier then computes it and warns.
   */
  completeness?: Completeness;
  /**
   * The policy the shipment is checked against: the policy file's version, the shipment's overrides, its cited
   * licences with their audit chains, and its own policy audit chain (src/evidence/policy-audit.ts). Optional in
   * format 1: bundles written before licence records lack it.
   */
  policy?: BundlePolicy;
  digest: { alg: 'sha256'; over: string; value: string };
  /** chipwatch's signature over `digest.value` (src/evidence/seal.ts). */
  seal: Seal;
}

export type UnsignedBundle = Omit<EvidenceBundle, 'digest' | 'seal'>;

/** The digest covers the canonical JSON of every field but `digest` and `seal`. */
export function bundleDigest(b: UnsignedBundle | EvidenceBundle): string {
  const { digest: _digest, seal: _seal, ...rest } = b as EvidenceBundle;
  return sha256Hex(canonicalJson(rest));
}

export function sealBundle(b: UnsignedBundle, key: SealKey): EvidenceBundle {
  const value = bundleDigest(b);
  return {
    ...b,
    digest: {
      alg: 'sha256',
      over: 'RFC 8785-style canonical JSON (sorted keys, no whitespace) of the bundle without "digest" and "seal"',
      value,
    },
    seal: sealDigest(value, key),
  };
}
