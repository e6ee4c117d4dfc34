// chipwatch's evidence seal: an Ed25519 key that signs each bundle's digest, so a bundle re-sealed by someone else
// (edited, digest recomputed) no longer carries chipwatch's signature. Its fingerprint is what a reader pins:
// `GET /v1/evidence/key` shows it, `chipwatch verify-evidence --key <fingerprint>` checks it.

import { createPublicKey, sign, verify } from 'node:crypto';
import { fingerprintOf, loadOwnKey, type OwnKey } from '../keyfile.ts';
import { isDegenerateEd25519Key } from '../verify/ed25519-order.ts';

const KEY_FILE = 'evidence-signing-key.pem';

export type SealKey = OwnKey;

export interface Seal {
  alg: 'EdDSA';
  /** SHA-256 of the raw public key, hex: what a reader compares with the chipwatch they trust. */
  fingerprint: string;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  /** Ed25519 over the ASCII bytes of `digest.value`, base64url. */
  signature: string;
}

/** The key from `file` (PKCS#8 PEM), else DATA_DIR's, generated there on first use (mode 600). */
export function loadSealKey(file: string | undefined, dataDir: string): SealKey {
  return loadOwnKey(file, dataDir, KEY_FILE, 'evidence signing key');
}

export function sealDigest(digest: string, key: SealKey): Seal {
  return {
    alg: 'EdDSA',
    fingerprint: key.fingerprint,
    publicJwk: key.publicJwk,
    signature: sign(null, Buffer.from(digest, 'ascii'), key.privateKey).toString('base64url'),
  };
}

/** Whether `seal` is a valid signature over `digest` by the key it names (its fingerprint matching that key). */
export function checkSeal(digest: string, seal: Seal): string | undefined {
  if (seal?.alg !== 'EdDSA' || typeof seal.publicJwk?.x !== 'string' || typeof seal.signature !== 'string') {
    return 'the seal is malformed';
  }
  if (fingerprintOf(seal.publicJwk.x) !== seal.fingerprint)
    return 'the seal names a fingerprint of another key';
  if (isDegenerateEd25519Key(seal.publicJwk.x))
    return 'the seal key is a small-order Ed25519 key, under which forged signatures verify';
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: seal.publicJwk.x }, format: 'jwk' });
    const sig = Buffer.from(seal.signature, 'base64url');
    return sig.length === 64 && verify(null, Buffer.from(digest, 'ascii'), key, sig)
      ? undefined
      : 'the signature over the digest does not verify';
  } catch {
    return 'the seal key is not an Ed25519 public key';
  }
}
