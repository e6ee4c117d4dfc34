// Small-order Ed25519 keys: node:crypto accepts one signature for every message under them; the verifier refuses
// them, in a tracker's key and in the seal.
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildTelemetry } from '../../../device-sim/signer.ts';
import { sealBundle } from '../../../src/evidence/bundle.ts';
import { checkSeal } from '../../../src/evidence/seal.ts';
import { verifyBundle } from '../../../src/evidence/verify.ts';
import { decodeEd25519Point, isDegenerateEd25519Key } from '../../../src/verify/ed25519-order.ts';
import { bundle, SEAL_KEY, T0 } from './fixtures.ts';

const hex = (h: string) => Buffer.from(h, 'hex').toString('base64url');
const IDENTITY = hex(`01${'00'.repeat(31)}`);
/** R = the base point B, s = 1: verifies for every message under the identity key. */
const UNIVERSAL_SIGNATURE = Buffer.from(`58${'66'.repeat(31)}01${'00'.repeat(31)}`, 'hex');
const SMALL_ORDER = [
  IDENTITY, // order 1
  hex('00'.repeat(32)), // order 4
  hex(`ec${'ff'.repeat(30)}7f`), // p − 1: order 2
  hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'), // order 8
  hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'), // order 8
  hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa'), // the same with the sign bit set
];

describe('small-order Ed25519 keys', () => {
  it('node:crypto verifies one signature for any message under the identity key (why the check exists)', () => {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: IDENTITY }, format: 'jwk' });
    for (const m of ['a', 'anything else'])
      expect(verify(null, Buffer.from(m), key, UNIVERSAL_SIGNATURE)).toBe(true);
  });

  it('flags every small-order point and undecodable bytes, and no real key', () => {
    for (const x of SMALL_ORDER) {
      expect(decodeEd25519Point(Buffer.from(x, 'base64url'))).toBeDefined();
      expect(isDegenerateEd25519Key(x)).toBe(true);
    }
    expect(isDegenerateEd25519Key(hex(`02${'00'.repeat(31)}`))).toBe(true); // y = 2: not on the curve
    expect(isDegenerateEd25519Key(hex(`ed${'ff'.repeat(30)}7f`))).toBe(true); // y = p: not canonical
    expect(isDegenerateEd25519Key(hex('00'.repeat(31)))).toBe(true); // 31 bytes
    for (let i = 0; i < 20; i++) {
      const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
      expect(isDegenerateEd25519Key(x)).toBe(false);
    }
  });

  it('a bundle whose tracker key is the identity fails every message, though each "signature" verifies', () => {
    const u = bundle();
    const kid = 'k-degenerate';
    u.keys[0] = {
      ...u.keys[0]!,
      kid,
      publicJwk: { kty: 'OKP', crv: 'Ed25519', x: IDENTITY, kid, alg: 'EdDSA' },
    };
    u.messages = [0, 1].map((seq) => {
      const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid, typ: 'chipwatch-telemetry+jws' }));
      const payload = Buffer.from(
        JSON.stringify(buildTelemetry('trk-1', seq, [{ ts: T0, lat: 39.9, lon: 116.4 }], T0)),
      );
      return {
        kind: 'telemetry' as const,
        topic: 'chipwatch/v1/devices/trk-1/telemetry',
        receivedAt: new Date(T0 + 1000).toISOString(),
        jws: `${header.toString('base64url')}.${payload.toString('base64url')}.${UNIVERSAL_SIGNATURE.toString('base64url')}`,
      };
    });
    const r = verifyBundle(sealBundle(u, SEAL_KEY), { pinnedKey: SEAL_KEY.fingerprint });
    expect(r.verdict).toBe('FAILED');
    expect(r.messages.verified).toBe(0);
    expect(r.problems).toContain(
      `message 0 (telemetry, chipwatch/v1/devices/trk-1/telemetry): key "${kid}" is a small-order Ed25519 key, under which forged signatures verify`,
    );
  });

  it('a seal by the identity key is refused', () => {
    const fingerprint = createHash('sha256').update(Buffer.from(IDENTITY, 'base64url')).digest('hex');
    const seal = {
      alg: 'EdDSA' as const,
      fingerprint,
      publicJwk: { kty: 'OKP' as const, crv: 'Ed25519' as const, x: IDENTITY },
      signature: UNIVERSAL_SIGNATURE.toString('base64url'),
    };
    expect(checkSeal('ab'.repeat(32), seal)).toBe(
      'the seal key is a small-order Ed25519 key, under which forged signatures verify',
    );
  });
});
