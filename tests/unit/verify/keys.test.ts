import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
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
});
