// The key a reader pins: a fingerprint typed on the command line, or a public key file (a JWK, the JSON of
// GET /v1/evidence/key, or a PEM), reduced to the fingerprint seals carry (seal.ts fingerprintOf).
import { createPublicKey } from 'node:crypto';
import { fingerprintOf } from '../keyfile.ts';
import { parseStrictJson } from './strict-json.ts';

/** A pin that cannot be used: the command exits with the usage code, never with a verdict. */
export class PinError extends Error {
  override name = 'PinError';
}

/** `--key`: 64 hex digits (SHA-256 of the raw Ed25519 key); colons and spaces between them are allowed. */
export function pinFromFingerprint(text: string): string {
  const fp = text.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fp)) {
    throw new PinError(
      `--key must be a key fingerprint of 64 hex digits (the "fingerprint" of GET /v1/evidence/key), got "${text}"`,
    );
  }
  return fp;
}

/** `--key-file`: the fingerprint of the Ed25519 public key in the file's text. */
export function pinFromKeyFile(text: string, path: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    let x: unknown;
    try {
      const key = createPublicKey(trimmed);
      if (key.asymmetricKeyType !== 'ed25519')
        throw new PinError(`${path} holds a ${key.asymmetricKeyType} key`);
      x = key.export({ format: 'jwk' }).x;
    } catch (e) {
      if (e instanceof PinError) throw new PinError(`${e.message}; chipwatch seals with Ed25519`);
      throw new PinError(`${path} is not a PEM public key (${(e as Error).message})`);
    }
    return fingerprintOf(String(x));
  }
  let json: unknown;
  try {
    json = parseStrictJson(trimmed);
  } catch (e) {
    throw new PinError(`${path} is neither a PEM nor a JSON key (${(e as Error).message})`);
  }
  // GET /v1/evidence/key answers { alg, fingerprint, publicJwk }: take the key, and check the fingerprint beside it.
  const o = json as { publicJwk?: unknown; fingerprint?: unknown };
  const jwk = (typeof o === 'object' && o !== null && 'publicJwk' in o ? o.publicJwk : o) as Record<
    string,
    unknown
  >;
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    jwk.kty !== 'OKP' ||
    jwk.crv !== 'Ed25519' ||
    typeof jwk.x !== 'string' ||
    !/^[A-Za-z0-9_-]{43}$/.test(jwk.x) ||
    Buffer.from(jwk.x, 'base64url').length !== 32
  ) {
    throw new PinError(`${path}: expected an Ed25519 public JWK ({"kty":"OKP","crv":"Ed25519","x":…})`);
  }
  const fp = fingerprintOf(jwk.x);
  if (o !== jwk && o.fingerprint !== undefined && String(o.fingerprint).toLowerCase() !== fp) {
    throw new PinError(`${path}: its "fingerprint" is not the fingerprint of its "publicJwk"`);
  }
  return fp;
}
