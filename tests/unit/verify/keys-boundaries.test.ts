// normalizePublicJwk's refusals, each with its message (the API shows it to whoever registers a key), and the
// boundaries of kid and of base64url members.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../src/domain/errors.ts';
import { normalizePublicJwk } from '../../../src/verify/keys.ts';

const ed = () =>
  ({ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k1' }) as Record<
    string,
    unknown
  >;
const ec = () =>
  ({
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
    kid: 'k2',
  }) as Record<string, unknown>;
function refusal(input: unknown): string {
  try {
    normalizePublicJwk(input);
  } catch (e) {
    expect((e as AppError).code).toBe('VALIDATION_FAILED');
    return (e as AppError).message;
  }
  throw new Error('accepted');
}

describe('normalizePublicJwk', () => {
  it('refuses what is not a JSON object: null, an array, a string', () => {
    for (const input of [null, [], 'jwk', 7, undefined])
      expect(refusal(input)).toBe('publicKeyJwk must be a JSON object');
  });

  it('refuses a private key, naming d', () => {
    expect(refusal({ ...ed(), d: 'AAAA' })).toBe(
      'publicKeyJwk contains a private key (d): send the public key only',
    );
  });

  it('takes a kid of 1 and of 128 printable characters; refuses 0, 129, a space, a control character, a number', () => {
    const msg = 'publicKeyJwk.kid must be 1–128 printable ASCII characters';
    expect(normalizePublicJwk({ ...ed(), kid: '!' }).kid).toBe('!');
    expect(normalizePublicJwk({ ...ed(), kid: '~'.repeat(128) }).kid).toHaveLength(128);
    for (const kid of ['', 'x'.repeat(129), 'a b', ' ab', 'ab ', 'a\u0001', 'é', 5])
      expect(refusal({ ...ed(), kid })).toBe(msg);
  });

  it('returns only the public members with the algorithm each key type is pinned to', () => {
    const e = ed();
    expect(normalizePublicJwk({ ...e, use: 'sig', extra: 1 })).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: e.x,
      kid: 'k1',
      alg: 'EdDSA',
    });
    const p = ec();
    expect(normalizePublicJwk(p)).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: p.x,
      y: p.y,
      kid: 'k2',
      alg: 'ES256',
    });
  });

  it('refuses other key types and curves, mixed members, and x or y that are not base64url', () => {
    const msg = 'publicKeyJwk must be an Ed25519 (OKP) or P-256 (EC) public key';
    const e = ed();
    const p = ec();
    for (const bad of [
      { ...e, kty: 'EC' },
      { ...e, crv: 'X25519' },
      { ...e, x: 5 },
      { ...e, x: `${e.x}=` },
      { ...e, x: `=${e.x}` },
      { ...p, kty: 'OKP' },
      { ...p, crv: 'P-384' },
      { ...p, y: undefined },
      { ...p, x: 7 },
      { ...p, x: `${p.x}+` },
      { ...p, y: `+${p.y}` },
      { kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'r' },
    ])
      expect(refusal(bad)).toBe(msg);
  });

  it('refuses an alg that does not fit the key type, naming both', () => {
    expect(refusal({ ...ed(), alg: 'ES256' })).toBe(
      'publicKeyJwk.alg ES256 does not fit its key type (EdDSA)',
    );
    expect(refusal({ ...ec(), alg: 'EdDSA' })).toBe(
      'publicKeyJwk.alg EdDSA does not fit its key type (ES256)',
    );
    expect(normalizePublicJwk({ ...ed(), alg: 'EdDSA' }).alg).toBe('EdDSA');
  });

  it('refuses a point off the curve or of the wrong length', () => {
    expect(refusal({ ...ed(), x: 'AAAA' })).toBe('publicKeyJwk is not a valid public key');
    const p = ec();
    expect(refusal({ ...p, y: p.x })).toBe('publicKeyJwk is not a valid public key');
  });

  it('refuses a small-order Ed25519 point, saying why', () => {
    // The identity point (y = 1): every signature (R = identity, S = 0) verifies under it.
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    expect(refusal({ kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url'), kid: 'k' })).toMatch(
      /^publicKeyJwk is a small-order \(degenerate\) Ed25519 point/,
    );
  });
});
