// chipwatch's own Ed25519 keys (the evidence seal, the ack key): read from a configured PKCS#8 PEM file, else from
// DATA_DIR, generated there on first use (mode 0600) so its fingerprint survives restarts and new containers that
// keep the data volume.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OwnKey {
  privateKey: KeyObject;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  /** SHA-256 of the raw public key, hex: what a reader pins. */
  fingerprint: string;
}

export function fingerprintOf(x: string): string {
  return createHash('sha256').update(Buffer.from(x, 'base64url')).digest('hex');
}

/** The key in `file`, else `DATA_DIR/{fileName}` (generated there once). `what` names it in errors. */
export function loadOwnKey(
  file: string | undefined,
  dataDir: string,
  fileName: string,
  what: string,
): OwnKey {
  const path = file ?? join(dataDir, fileName);
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
    throw new Error(`cannot read the ${what} ${path} (an Ed25519 PKCS#8 PEM): ${String(cause)}`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 key (${what})`);
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
  return { privateKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x }, fingerprint: fingerprintOf(x) };
}
