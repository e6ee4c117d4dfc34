// Public keys of devices: JWK validation at registration and node:crypto key objects, each pinned to one algorithm.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { isDegenerateEd25519Key } from './ed25519-order.ts';

export type SigningAlg = 'EdDSA' | 'ES256';

export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlg;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Validates a JWK submitted for registration and returns its public members only, with the algorithm it is
 * pinned to. Refuses private keys, other curves and algorithms, a missing `kid`, and small-order Ed25519 keys
 * (under which node:crypto accepts one forged signature for every message). Every registration path calls it.
 */
export function normalizePublicJwk(input: unknown): PublicJwk {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('VALIDATION_FAILED', 'publicKeyJwk must be a JSON object');
  }
  const jwk = input as Record<string, unknown>;
  if ('d' in jwk)
    throw new AppError(
      'VALIDATION_FAILED',
      'publicKeyJwk contains a private key (d): send the public key only',
    );
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid.length < 1 || kid.length > 128 || !/^[\x21-\x7e]+$/.test(kid)) {
    throw new AppError('VALIDATION_FAILED', 'publicKeyJwk.kid must be 1–128 printable ASCII characters');
  }
  let out: PublicJwk;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && B64URL.test(jwk.x)) {
    out = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA' };
  } else if (
    jwk.kty === 'EC' &&
    jwk.crv === 'P-256' &&
    typeof jwk.x === 'string' &&
    typeof jwk.y === 'string' &&
    B64URL.test(jwk.x) &&
    B64URL.test(jwk.y)
  ) {
    out = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: 'ES256' };
  } else {
    throw new AppError('VALIDATION_FAILED', 'publicKeyJwk must be an Ed25519 (OKP) or P-256 (EC) public key');
  }
  if (jwk.alg !== undefined && jwk.alg !== out.alg) {
    throw new AppError(
      'VALIDATION_FAILED',
      `publicKeyJwk.alg ${String(jwk.alg)} does not fit its key type (${out.alg})`,
    );
  }
  // Fails on points not on the curve or wrong lengths.
  try {
    toKeyObject(out);
  } catch (cause) {
    throw new AppError('VALIDATION_FAILED', 'publicKeyJwk is not a valid public key', { cause });
  }
  if (out.alg === 'EdDSA' && isDegenerateEd25519Key(out.x)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'publicKeyJwk is a small-order (degenerate) Ed25519 point: a signature under it proves nothing; generate a real key',
    );
  }
  return out;
}

export function toKeyObject(jwk: PublicJwk): KeyObject {
  const { alg: _alg, kid: _kid, ...material } = jwk;
  return createPublicKey({ key: material, format: 'jwk' });
}
