// conformance/vectors/acks.json (acks a tracker must accept or ignore) and the worked examples of docs/protocol.md,
// all from the fixed keys of keys.json.
import { createPrivateKey } from 'node:crypto';
import { full, header, minimal, T0, telemetry } from './ingest-vectors.ts';
import { b64u, compactJws, fromB64u, type KeysFile, privateKeyOf, seededPrivateJwk } from './lib.ts';

type Reuse = (signingInput: string, der: boolean) => string | undefined;

export const ACK_TYP = 'chipwatch-ack+jws';
const ACK_TS = T0 + 3_600_000;

function ackJws(
  keys: KeysFile,
  payload: Record<string, unknown>,
  hdr: Record<string, unknown> = {},
  signWith?: string,
) {
  const key = privateKeyOf(signWith ? seededPrivateJwk(signWith, 'EdDSA') : keys.ackKey.privateJwk);
  const h = JSON.stringify({ alg: 'EdDSA', kid: keys.ackKey.fingerprint, typ: ACK_TYP, ...hdr });
  return compactJws(h, JSON.stringify(payload), 'EdDSA', key);
}

export function ackCases(keys: KeysFile) {
  const id = 'trk-conf-ed';
  const good = ackJws(keys, { v: 1, deviceId: id, seq: 5, sack: [7, 8], ts: ACK_TS });
  const tamperedPayload = b64u(JSON.stringify({ v: 1, deviceId: id, seq: 1000, sack: [], ts: ACK_TS }));
  const unsigned = `${b64u(JSON.stringify({ alg: 'none', typ: ACK_TYP }))}.${tamperedPayload}.`;
  const c = (
    name: string,
    ack: string,
    valid: boolean,
    why: string,
    covers?: number[],
    notCovered?: number[],
  ) => ({
    name,
    ack,
    valid,
    why,
    ...(covers ? { covers, notCovered } : {}),
  });
  return {
    description:
      "Acks as they arrive on chipwatch/v1/devices/trk-conf-ed/ack, for the tracker trk-conf-ed that pinned `ackKey`. A valid ack lets the tracker delete exactly the seqs it covers; an invalid one must delete nothing. Check: three base64url parts; header alg EdDSA and typ chipwatch-ack+jws; the Ed25519 signature over `header.payload` (ASCII) verifies with the pinned key; payload v 1, deviceId = the tracker's id, seq an integer, sack integers each above seq.",
    deviceId: id,
    ackKey: keys.ackKey.publicJwk,
    fingerprint: keys.ackKey.fingerprint,
    cases: [
      c('valid', good.jws, true, 'signed by the ack key', [1, 2, 3, 4, 5, 7, 8], [6, 9]),
      c(
        'valid, nothing yet',
        ackJws(keys, { v: 1, deviceId: id, seq: 0, sack: [], ts: ACK_TS }).jws,
        true,
        'seqs start at 1: seq 0 covers nothing',
        [],
        [1],
      ),
      c('unsigned', unsigned, false, 'alg none, no signature'),
      c(
        'another key',
        ackJws(keys, { v: 1, deviceId: id, seq: 1000, sack: [], ts: ACK_TS }, {}, 'not the ack key').jws,
        false,
        'signed by a key other than the pinned one, under its fingerprint',
      ),
      c(
        'another device',
        ackJws(keys, { v: 1, deviceId: 'trk-conf-es', seq: 1000, sack: [], ts: ACK_TS }).jws,
        false,
        "another tracker's ack",
      ),
      c(
        'a site ack',
        ackJws(keys, { v: 1, siteId: id, seq: 1000, sack: [], ts: ACK_TS }).jws,
        false,
        'siteId instead of deviceId',
      ),
      c(
        'tampered',
        `${good.headerB64}.${tamperedPayload}.${good.signatureB64}`,
        false,
        'payload changed after signing',
      ),
      c(
        'wrong typ',
        ackJws(keys, { v: 1, deviceId: id, seq: 1000, sack: [], ts: ACK_TS }, { typ: 'JWT' }).jws,
        false,
        'typ is not chipwatch-ack+jws',
      ),
      c(
        'sack below seq',
        ackJws(keys, { v: 1, deviceId: id, seq: 5, sack: [3], ts: ACK_TS }).jws,
        false,
        'every sack entry must lie above seq',
      ),
      c(
        'v 2',
        ackJws(keys, { v: 2, deviceId: id, seq: 1000, sack: [], ts: ACK_TS }).jws,
        false,
        'unknown version',
      ),
    ],
  };
}

/** How many fixes like `record` fit one message of at most `limit` bytes, with this header. */
export function recordsThatFit(
  deviceId: string,
  record: (i: number) => Record<string, unknown>,
  hdr: string,
  limit = 65_536,
) {
  const sigChars = 86;
  let n = 0;
  for (;;) {
    const payload = telemetry(
      deviceId,
      1_000_000_000,
      Array.from({ length: n + 1 }, (_, i) => record(i)),
    );
    const size = b64u(hdr).length + 1 + b64u(payload).length + 1 + sigChars;
    if (size > limit || n + 1 > 500) return n;
    n++;
  }
}

const block = (lang: string, text: string) => `\`\`\`${lang}\n${text}\n\`\`\``;

export function docExamples(keys: KeysFile, reuse: Reuse): string {
  const ed = keys.devices.find((d) => d.id === 'trk-conf-ed')!;
  const es = keys.devices.find((d) => d.id === 'trk-conf-es')!;
  const payload = telemetry(ed.id, 1, [full(1)]);
  const p = compactJws(header('EdDSA', ed.kid), payload, 'EdDSA', privateKeyOf(ed.privateJwk));
  const esPayload = telemetry(es.id, 1, [minimal(1)]);
  const q = compactJws(header('ES256', es.kid), esPayload, 'ES256', privateKeyOf(es.privateJwk), { reuse });
  const qDer = compactJws(q.header, q.payload, 'ES256', privateKeyOf(es.privateJwk), { der: true, reuse });
  const ack = ackJws(keys, { v: 1, deviceId: ed.id, seq: 5, sack: [7, 8], ts: ACK_TS });
  const seed = createPrivateKey({ key: { ...ed.privateJwk }, format: 'jwk' })
    .export({ format: 'der', type: 'pkcs8' })
    .subarray(16)
    .toString('hex');
  const wide = (i: number) => ({
    ts: 1_763_719_200_000 + i * 1000,
    lat: -33.123456,
    lon: -151.123456,
    altM: 12345.6,
    speedKmh: 1234.5,
    headingDeg: 359.9,
    hdop: 12.3,
    satellites: 24,
    batteryPct: 100,
    temperatureC: -40.5,
    lightLux: 100000,
    tamper: false,
  });
  const kid128 = header('EdDSA', 'k'.repeat(128));
  const id128 = 'd'.repeat(128);
  return [
    '### Example 1: an EdDSA telemetry message, byte for byte',
    '',
    `Tracker \`${ed.id}\`, key \`${ed.kid}\` (a test key from \`conformance/vectors/keys.json\`; its private half is public, never use it). Ed25519 seed (hex): \`${seed}\`; public key \`x\`: \`${ed.publicJwk.x}\`. It is registered with:`,
    '',
    block('json', JSON.stringify({ id: ed.id, publicKeyJwk: ed.publicJwk })),
    '',
    'Protected header, exactly these bytes (UTF-8, no spaces):',
    '',
    block('json', p.header),
    '',
    'Payload, exactly these bytes:',
    '',
    block('json', p.payload),
    '',
    `BASE64URL(header) (${p.headerB64.length} characters):`,
    '',
    block('text', p.headerB64),
    '',
    `BASE64URL(payload) (${p.payloadB64.length} characters):`,
    '',
    block('text', p.payloadB64),
    '',
    'The signing input is BASE64URL(header) "." BASE64URL(payload), as ASCII bytes. Ed25519 (RFC 8032, pure, no pre-hash) over it gives these 64 bytes (hex):',
    '',
    block('text', fromB64u(p.signatureB64).toString('hex')),
    '',
    `The message published on \`chipwatch/v1/devices/${ed.id}/telemetry\` (${p.jws.length} bytes, no newline after it):`,
    '',
    block('text', p.jws),
    '',
    '### Example 2: ES256 is R‖S, not DER',
    '',
    `Tracker \`${es.id}\`, P-256 key \`${es.kid}\` (x \`${es.publicJwk.x}\`, y \`${es.publicJwk.y}\`), signing`,
    '',
    block('json', q.payload),
    '',
    `under \`${q.header}\`. ECDSA uses a random nonce, so your signature will differ; it must be the 64 bytes R‖S (each 32 bytes, big-endian, left-padded with zeros), for example (hex):`,
    '',
    block('text', fromB64u(q.signatureB64).toString('hex')),
    '',
    'giving the message',
    '',
    block('text', q.jws),
    '',
    `Most crypto libraries (OpenSSL, mbedTLS, Java, Go's \`ecdsa.SignASN1\`, Python's \`cryptography\`) return DER instead — \`30 …\` (${fromB64u(qDer.signatureB64).length} bytes here). A DER signature is refused as \`SIGNATURE_INVALID\` and never acknowledged. Convert it: read the two INTEGERs, strip their leading zero bytes, left-pad each to 32 bytes, concatenate.`,
    '',
    '### Example 3: a signed ack',
    '',
    `chipwatch's ack key in the vectors has the public \`x\` \`${keys.ackKey.publicJwk.x}\` and fingerprint (\`kid\`) \`${keys.ackKey.fingerprint}\` (the hex SHA-256 of the 32 raw public-key bytes). This ack arrives on \`chipwatch/v1/devices/${ed.id}/ack\`:`,
    '',
    block('text', ack.jws),
    '',
    'Its header and payload decode to',
    '',
    block('json', `${ack.header}\n${ack.payload}`),
    '',
    'The tracker checks the Ed25519 signature over the first two parts with the pinned key, `alg` and `typ`, `v` = 1, `deviceId` = its own id, then deletes every buffered message with seq ≤ 5 and seqs 7 and 8 — not 6.',
    '',
    '### How many fixes fit one message',
    '',
    '| fixes like | kid | deviceId | fixes per message |',
    '|---|---|---|---|',
    `| \`${JSON.stringify(minimal(1))}\` | 10 characters | 11 characters | ${recordsThatFit(ed.id, (i) => minimal(1, i), p.header)} (the 500 cap) |`,
    `| Example 1's fix (every field) | 10 characters | 11 characters | ${recordsThatFit(ed.id, (i) => full(1, i), p.header)} |`,
    `| \`${JSON.stringify(wide(0))}\` | 128 characters | 128 characters | ${recordsThatFit(id128, wide, kid128)} |`,
  ].join('\n');
}
