// conformance/vectors/signer.json: what a firmware signer must produce. Each case gives the key, the header and the
// payload as exact JSON texts, their base64url, the signing input and (EdDSA, deterministic) the one right signature;
// `mustRefuse` lists encodings chipwatch refuses, with the code it records.

import { full, header, minimal, telemetry } from './ingest-vectors.ts';
import { compactJws, type JwsParts, type KeysFile, privateKeyOf } from './lib.ts';

type Reuse = (signingInput: string, der: boolean) => string | undefined;

/** `signatureB64` — EdDSA: the only right signature; ES256: one right signature (any other that verifies is as good). */
export interface SignerCase extends JwsParts {
  name: string;
  deviceId: string;
  alg: 'EdDSA' | 'ES256';
  kid: string;
  topic: string;
  deterministic: boolean;
}

export function signerCases(keys: KeysFile, reuse: Reuse) {
  const cases: SignerCase[] = [];
  const add = (name: string, id: string, payload: string) => {
    const d = keys.devices.find((x) => x.id === id)!;
    const p = compactJws(header(d.alg, d.kid), payload, d.alg, privateKeyOf(d.privateJwk), { reuse });
    cases.push({
      name,
      deviceId: id,
      alg: d.alg,
      kid: d.kid,
      topic: `chipwatch/v1/devices/${id}/telemetry`,
      header: p.header,
      payload: p.payload,
      headerB64: p.headerB64,
      payloadB64: p.payloadB64,
      signingInput: p.signingInput,
      signatureB64: p.signatureB64,
      jws: p.jws,
      deterministic: d.alg === 'EdDSA',
    });
    return p;
  };
  add('eddsa-one-fix', 'trk-conf-ed', telemetry('trk-conf-ed', 1, [minimal(1)]));
  add('eddsa-every-field', 'trk-conf-ed', telemetry('trk-conf-ed', 2, [full(2, 0), full(2, 1), full(2, 2)]));
  add(
    'eddsa-non-ascii-text',
    'trk-conf-ed',
    telemetry('trk-conf-ed', 3, [minimal(3)], { note: 'Zürich → 東京' }),
  );
  const es = add('es256-one-fix', 'trk-conf-es', telemetry('trk-conf-es', 1, [minimal(1)]));
  const esKey = keys.devices.find((x) => x.id === 'trk-conf-es')!;
  const der = compactJws(es.header, es.payload, 'ES256', privateKeyOf(esKey.privateJwk), {
    der: true,
    reuse,
  });
  const ed = cases[0]!;
  return {
    description:
      'For each case, sign `payload` (exact bytes, UTF-8) under `header` with the key of `deviceId` in keys.json: BASE64URL(header) "." BASE64URL(payload), signed as ASCII; the JWS is signingInput "." BASE64URL(signature), no padding, nothing after it. EdDSA signatures are deterministic: yours must equal signatureB64. ES256 signatures are random: yours must be 64 bytes (R‖S) and verify. Check your output with `npx tsx conformance/check-signer.ts --vectors your-output.json` (see conformance/README.md).',
    cases,
    mustRefuse: [
      { name: 'ES256 signature in DER', deviceId: 'trk-conf-es', jws: der.jws, code: 'SIGNATURE_INVALID' },
      { name: 'a trailing newline', deviceId: 'trk-conf-ed', jws: `${ed.jws}\n`, code: 'MALFORMED' },
      { name: 'base64 padding', deviceId: 'trk-conf-ed', jws: `${ed.jws}==`, code: 'MALFORMED' },
      {
        name: 'base64 (+ and /) instead of base64url',
        deviceId: 'trk-conf-ed',
        jws: `${ed.signingInput}.${Buffer.from(ed.signatureB64, 'base64url').toString('base64').replace(/=+$/, '')}`,
        code: Buffer.from(ed.signatureB64, 'base64url').toString('base64').match(/[+/]/)
          ? 'MALFORMED'
          : 'none',
      },
      {
        name: 'the JSON re-serialised after signing (spaces added): the signature covers the exact bytes',
        deviceId: 'trk-conf-ed',
        jws: `${ed.headerB64}.${Buffer.from(ed.payload.replace(/,/g, ', ')).toString('base64url')}.${ed.signatureB64}`,
        code: 'SIGNATURE_INVALID',
      },
    ].filter((c) => c.code !== 'none'),
  };
}
