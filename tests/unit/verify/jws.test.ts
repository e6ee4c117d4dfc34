// The compact JWS parser's remembered headers: a header that passed is reused only for the same text and typ, a long
// header is checked every time, and the signing input is the received bytes up to the second dot.
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { signCompactJws } from '../../../device-sim/signer.ts';
import { Rejection } from '../../../src/domain/errors.ts';
import { ATTESTATION_TYP, parseCompactJws, TELEMETRY_TYP, verifySignature } from '../../../src/verify/jws.ts';
import { toKeyObject } from '../../../src/verify/keys.ts';

const key = generateDeviceKey();
const code = (f: () => unknown) => {
  try {
    f();
    return 'parsed';
  } catch (e) {
    return e instanceof Rejection ? e.code : String(e);
  }
};

describe('compact JWS headers', () => {
  it('judges a header again under another typ, however often it passed under one', () => {
    const raw = Buffer.from(signCompactJws({ a: 1 }, key));
    for (let i = 0; i < 3; i++) expect(code(() => parseCompactJws(raw, TELEMETRY_TYP))).toBe('parsed');
    expect(code(() => parseCompactJws(raw, ATTESTATION_TYP))).toBe('HEADER_NOT_ALLOWED');
    expect(code(() => parseCompactJws(raw, TELEMETRY_TYP))).toBe('parsed');
  });

  it('checks a long header every time, and refuses a forbidden field in it', () => {
    const long = Buffer.from(signCompactJws({ a: 1 }, key, TELEMETRY_TYP, { note: 'x'.repeat(600) }));
    expect(parseCompactJws(long, TELEMETRY_TYP).kid).toBe(key.kid);
    const forbidden = Buffer.from(
      signCompactJws({ a: 1 }, key, TELEMETRY_TYP, { note: 'x'.repeat(600), jku: 'u' }),
    );
    expect(code(() => parseCompactJws(forbidden, TELEMETRY_TYP))).toBe('HEADER_NOT_ALLOWED');
  });

  it('signs over the bytes as received up to the second dot, and the signature verifies', async () => {
    const text = signCompactJws({ deviceId: 'trk-1', seq: 1 }, key);
    const parsed = parseCompactJws(Buffer.from(text, 'latin1'), TELEMETRY_TYP);
    expect(parsed.signingInput.toString('latin1')).toBe(text.slice(0, text.lastIndexOf('.')));
    expect(await verifySignature(parsed, toKeyObject(key.publicJwk))).toBe(true);
  });
});
