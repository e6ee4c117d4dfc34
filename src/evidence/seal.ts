// chipwatch's evidence seal: an Ed25519 key that signs each bundle's digest, so a bundle re-sealed by someone else
// (edited, digest recomputed) no longer carries chipwatch's signature. Its fingerprint is what a reader pins:
// `GET /v1/evidence/key` shows it, `chipwatch verify-evidence --key <fingerprint>` checks it.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDegenerateEd25519Key } from './ed25519-order.ts';

const KEY_FILE = 'evidence-signing-key.pem';

export interface SealKey {
  privateKey: KeyObject;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  fingerprint: string;
}

export interface Seal {
  alg: 'EdDSA';
  /** SHA-256 of the raw public key, hex: what a reader compares with the chipwatch they trust. */
  fingerprint: string;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  /** Ed25519 over the ASCII bytes of `digest.value`, base64url. */
  signature: string;
}

export function fingerprintOf(x: string): string {
  return createHash('sha256').update(Buffer.from(x, 'base64url')).digest('hex');
}

/** The key from `file` (PKCS#8 PEM), else DATA_DIR's, generated there on first use (mode 600). */
export function loadSealKey(file: string | undefined, dataDir: string): SealKey {
  const path = file ?? join(dataDir, KEY_FILE);
  if (!file && !existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(
      `cannot read the evidence signing key ${path} (an Ed25519 PKCS#8 PEM): ${String(cause)}`,
      {
        cause,
      },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 key`);
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  return { privateKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x }, fingerprint: fingerprintOf(x) };
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
