import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import type { AppError } from '../../../src/domain/errors.ts';
import { normalizePublicJwk } from '../../../src/verify/keys.ts';

describe('device key registration', () => {
  it('pins an Ed25519 key to EdDSA and a P-256 key to ES256, keeping public members only', () => {
    expect(normalizePublicJwk({ ...generateDeviceKey('EdDSA').publicJwk, alg: undefined }).alg).toBe('EdDSA');
    const es = normalizePublicJwk({ ...generateDeviceKey('ES256').publicJwk, use: 'sig' });
    expect(es.alg).toBe('ES256');
    expect(Object.keys(es).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'x', 'y']);
  });

  it('refuses a private key, a key without kid, RSA, other curves and a mismatched alg', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const priv = { ...privateKey.export({ format: 'jwk' }), kid: 'k1' };
    expect(() => normalizePublicJwk(priv)).toThrow(/private/);
    const pub = generateDeviceKey('EdDSA').publicJwk;
    expect(() => normalizePublicJwk({ ...pub, kid: undefined })).toThrow(/kid/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(() => normalizePublicJwk({ ...rsa, kid: 'r' })).toThrow(/Ed25519|P-256/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    expect(() => normalizePublicJwk({ ...p384, kid: 'p' })).toThrow(/Ed25519|P-256/);
    expect(() => normalizePublicJwk({ ...pub, alg: 'ES256' })).toThrow(/alg/);
  });

  it('refuses a point that is not on the curve', () => {
    const pub = generateDeviceKey('ES256').publicJwk;
    expect(() => normalizePublicJwk({ ...pub, y: pub.x })).toThrow(/valid public key/);
  });

  it('refuses small-order Ed25519 keys (identity, order 2, 4 and 8) with VALIDATION_FAILED naming the reason', () => {
    const hex = (h: string) => Buffer.from(h, 'hex').toString('base64url');
    const smallOrder = [
      hex(`01${'00'.repeat(31)}`), // the identity: order 1
      hex(`ec${'ff'.repeat(30)}7f`), // order 2
      hex('00'.repeat(32)), // order 4
      hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'), // order 8
    ];
    for (const x of smallOrder) {
      const jwk = { kty: 'OKP', crv: 'Ed25519', x, kid: 'weak' };
      expect(() => normalizePublicJwk(jwk)).toThrow(/small-order/);
      try {
        normalizePublicJwk(jwk);
      } catch (e) {
        expect((e as AppError).code).toBe('VALIDATION_FAILED');
      }
    }
    // A real key still passes.
    expect(normalizePublicJwk(generateDeviceKey('EdDSA').publicJwk).alg).toBe('EdDSA');
  });
});
