// Signed acks as a tracker checks them (src/verify/ack.ts): exactly what chipwatch signed verifies; anything
// unsigned, forged, for another sender or malformed is refused; coverage is `seq` and below plus each `sack`.
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACK_TYP, type AckSigner, ackCovers, signAck, verifyAck } from '../../../src/verify/ack.ts';

function signer(): { key: AckSigner; jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: 'OKP'; crv: 'Ed25519'; x: string };
  const fingerprint = createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex');
  return { key: { privateKey, fingerprint }, jwk };
}
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWS signed by `privateKey` over any header and payload: what a forger with the key, or a bug, would send. */
function raw(privateKey: KeyObject, header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
}
const header = (key: AckSigner) => ({ alg: 'EdDSA', kid: key.fingerprint, typ: ACK_TYP });

describe('signAck and verifyAck', () => {
  it('signs a device ack whose header names the key and type, and whose payload verifies as signed', () => {
    const { key, jwk } = signer();
    const jws = signAck(key, 'device', 'trk-1', { seq: 4, sack: [6, 9] }, 1_700_000_000_000);
    const [h] = jws.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({
      alg: 'EdDSA',
      kid: key.fingerprint,
      typ: 'chipwatch-ack+jws',
    });
    expect(verifyAck(jws, jwk, 'device', 'trk-1')).toEqual({
      v: 1,
      deviceId: 'trk-1',
      seq: 4,
      sack: [6, 9],
      ts: 1_700_000_000_000,
    });
    expect(verifyAck(Buffer.from(jws), jwk, 'device', 'trk-1')?.seq).toBe(4);
  });

  it('signs a site ack with siteId, which does not verify as a device ack of the same id', () => {
    const { key, jwk } = signer();
    const jws = signAck(key, 'site', 'dc-1', { seq: -1, sack: [] });
    expect(verifyAck(jws, jwk, 'site', 'dc-1')).toMatchObject({ v: 1, siteId: 'dc-1', seq: -1, sack: [] });
    expect(verifyAck(jws, jwk, 'site', 'dc-1')).not.toHaveProperty('deviceId');
    expect(verifyAck(jws, jwk, 'device', 'dc-1')).toBeUndefined();
    expect(verifyAck(jws, jwk, 'site', 'dc-2')).toBeUndefined();
  });

  it('stamps the signing time, now by default', () => {
    const { key, jwk } = signer();
    const before = Date.now();
    const ts = verifyAck(signAck(key, 'device', 'd', { seq: 1, sack: [] }), jwk, 'device', 'd')!.ts;
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });

  it('refuses an ack signed by another key, tampered with, or cut', () => {
    const { key, jwk } = signer();
    const other = signer();
    const jws = signAck(key, 'device', 'd', { seq: 3, sack: [] });
    expect(verifyAck(jws, other.jwk, 'device', 'd')).toBeUndefined();
    const [h, , s] = jws.split('.');
    const forged = `${h}.${b64({ v: 1, deviceId: 'd', seq: 300, sack: [], ts: 1 })}.${s}`;
    expect(verifyAck(forged, jwk, 'device', 'd')).toBeUndefined();
    expect(verifyAck(jws.split('.').slice(0, 2).join('.'), jwk, 'device', 'd')).toBeUndefined();
    expect(verifyAck(`${jws}.x`, jwk, 'device', 'd')).toBeUndefined();
    expect(verifyAck('not a jws', jwk, 'device', 'd')).toBeUndefined();
  });

  it('refuses a correctly signed ack with the wrong alg or typ in its header', () => {
    const { key, jwk } = signer();
    const p = { v: 1, deviceId: 'd', seq: 1, sack: [], ts: 1 };
    expect(verifyAck(raw(key.privateKey, header(key), p), jwk, 'device', 'd')).toEqual(p);
    expect(
      verifyAck(raw(key.privateKey, { ...header(key), alg: 'none' }, p), jwk, 'device', 'd'),
    ).toBeUndefined();
    expect(
      verifyAck(raw(key.privateKey, { ...header(key), typ: 'JWT' }, p), jwk, 'device', 'd'),
    ).toBeUndefined();
    expect(verifyAck(raw(key.privateKey, null, p), jwk, 'device', 'd')).toBeUndefined();
  });

  it('refuses a signed payload of another version, a non-integer seq, a sack that is not a list or not above seq', () => {
    const { key, jwk } = signer();
    const ok = { v: 1, deviceId: 'd', seq: 5, sack: [7], ts: 1 };
    const check = (p: unknown) => verifyAck(raw(key.privateKey, header(key), p), jwk, 'device', 'd');
    expect(check(ok)).toEqual(ok);
    expect(check({ ...ok, v: 2 })).toBeUndefined();
    expect(check({ ...ok, seq: 1.5 })).toBeUndefined();
    expect(check({ ...ok, seq: '5' })).toBeUndefined();
    expect(check({ ...ok, seq: 2 ** 53 })).toBeUndefined();
    expect(check({ ...ok, sack: 7 })).toBeUndefined();
    expect(check({ ...ok, sack: [5] })).toBeUndefined();
    expect(check({ ...ok, sack: [4] })).toBeUndefined();
    expect(check({ ...ok, sack: [6.5] })).toBeUndefined();
    expect(check({ ...ok, sack: [6, 8] })).toEqual({ ...ok, sack: [6, 8] });
  });
});

describe('ackCovers', () => {
  const ack = { v: 1 as const, deviceId: 'd', seq: 5, sack: [8, 10], ts: 0 };
  it('covers every seq up to seq and each sacked one, nothing else', () => {
    expect([1, 4, 5, 6, 7, 8, 9, 10, 11].filter((s) => ackCovers(ack, s))).toEqual([1, 4, 5, 8, 10]);
  });
});
