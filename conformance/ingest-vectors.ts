// conformance/vectors/ingest.json: scenarios of exact messages and what chipwatch must answer to each, in order —
// accepted, duplicate, or refused with a code; whether the signed ack covers it; the ack's seq and sack afterwards.
import { createHmac } from 'node:crypto';
import {
  type Alg,
  compactJws,
  type IngestFile,
  type IngestStep,
  type KeysFile,
  privateKeyOf,
  publicOf,
} from './lib.ts';

/** 2025-11-21T10:00:00Z: every fix of the vectors lies in the 2 days after it. */
export const T0 = 1_763_719_200_000;
/** 2100-01-01T00:00:00Z: the fix that must stay in the future. */
export const FUTURE_TS = 4_102_444_800_000;
export const TELEMETRY_TYP = 'chipwatch-telemetry+jws';
const PREFIX = 'chipwatch/v1';

type Reuse = (signingInput: string, der: boolean) => string | undefined;
type Rec = Record<string, unknown>;

/** Fix `i` of message `seq`: each message owns 10 minutes, each fix a second, so no two fixes share a time. */
export const minimal = (seq: number, i = 0): Rec => ({
  ts: T0 + seq * 600_000 + i * 1000,
  lat: Math.round((22.61 + seq * 0.01 + i * 0.0001) * 1e6) / 1e6,
  lon: Math.round((120.27 + i * 0.0001) * 1e6) / 1e6,
});

export const full = (seq: number, i = 0): Rec => ({
  ...minimal(seq, i),
  altM: 12,
  speedKmh: 31.2,
  headingDeg: 270,
  hdop: 0.9,
  satellites: 11,
  batteryPct: 88,
  temperatureC: 21.5,
  lightLux: 0,
  tamper: false,
});

export function telemetry(deviceId: string, seq: number, records: Rec[], extra: Rec = {}): string {
  const last = Math.max(T0, ...records.map((r) => (typeof r.ts === 'number' && r.ts < FUTURE_TS ? r.ts : 0)));
  return JSON.stringify({ v: 1, deviceId, seq, sentAt: last + 5000, records, ...extra });
}

export const header = (alg: string, kid: string, extra: Rec = {}, typ: string | null = TELEMETRY_TYP) =>
  JSON.stringify({ alg, kid, ...(typ === null ? {} : { typ }), ...extra });

export function ingestVectors(keys: KeysFile, reuse: Reuse): IngestFile {
  const dev = (id: string) => keys.devices.find((d) => d.id === id)!;
  const signer = (id: string) => {
    const d = dev(id);
    const key = privateKeyOf(d.privateJwk);
    return (payload: string, opts: { alg?: Alg; hdr?: string; der?: boolean } = {}) =>
      compactJws(opts.hdr ?? header(d.alg, d.kid), payload, opts.alg ?? d.alg, key, { der: opts.der, reuse })
        .jws;
  };
  const topic = (id: string) => `${PREFIX}/devices/${id}/telemetry`;
  const ok = (records: number, seq: number, ack: [number, number[]]) => ({
    outcome: 'accepted' as const,
    authenticated: true,
    seq,
    records,
    acked: true,
    ack: { seq: ack[0], sack: ack[1] },
  });
  const refusedAcked = (code: string, seq: number | undefined, ack: [number, number[]]) => ({
    outcome: 'refused' as const,
    code,
    authenticated: true,
    ...(seq === undefined ? {} : { seq }),
    records: 0,
    acked: seq !== undefined,
    ack: { seq: ack[0], sack: ack[1] },
  });
  const refusedSilently = (code: string) => ({
    outcome: 'refused' as const,
    code,
    authenticated: false,
    records: 0,
    acked: false,
    ack: null,
  });

  // ---- trk-conf-ed: EdDSA, every outcome ----
  const ed = 'trk-conf-ed';
  const sEd = signer(ed);
  const edKey = privateKeyOf(dev(ed).privateJwk);
  const m2 = sEd(telemetry(ed, 2, [minimal(2, 0), minimal(2, 1), minimal(2, 2)]));
  const m8 = telemetry(ed, 8, [minimal(8)]);
  const valid8 = sEd(m8);
  const sigStart = valid8.lastIndexOf('.') + 1;
  const flipped =
    valid8.slice(0, sigStart) + (valid8[sigStart] === 'A' ? 'B' : 'A') + valid8.slice(sigStart + 1);
  const hsInput = `${Buffer.from(header('HS256', dev(ed).kid)).toString('base64url')}.${Buffer.from(m8).toString('base64url')}`;
  const hs256 = `${hsInput}.${createHmac('sha256', dev(ed).publicJwk.x).update(hsInput).digest('base64url')}`;
  let big: Rec[] = [];
  for (let i = 0; big.length < 400; i++) big.push(full(8, i));
  let oversized = sEd(telemetry(ed, 8, big));
  while (oversized.length > 66_000) {
    big = big.slice(0, -1);
    oversized = sEd(telemetry(ed, 8, big));
  }
  const many = (seq: number, n: number) => Array.from({ length: n }, (_, i) => minimal(seq, i));
  const edSteps: IngestStep[] = [
    { name: 'seq 1, one fix', message: sEd(telemetry(ed, 1, [minimal(1)])), expect: ok(1, 1, [1, []]) },
    { name: 'seq 2, three fixes', message: m2, expect: ok(3, 2, [2, []]) },
    {
      name: 'seq 2 again, the same bytes: a duplicate, acknowledged, not stored twice',
      message: m2,
      expect: {
        outcome: 'duplicate',
        authenticated: true,
        seq: 2,
        records: 0,
        acked: true,
        ack: { seq: 2, sack: [] },
      },
    },
    {
      name: 'seq 2 with another payload: a replay',
      message: sEd(telemetry(ed, 2, [{ ...minimal(2), lat: 0 }])),
      expect: refusedAcked('REPLAY', 2, [2, []]),
    },
    {
      name: 'seq 4 before 3: acknowledged in sack',
      message: sEd(telemetry(ed, 4, [minimal(4)])),
      expect: ok(1, 4, [2, [4]]),
    },
    { name: 'seq 3 closes the gap', message: sEd(telemetry(ed, 3, [minimal(3)])), expect: ok(1, 3, [4, []]) },
    {
      name: 'seq 5 with lat 91: refused for good, and acknowledged so the tracker stops resending it',
      message: sEd(telemetry(ed, 5, [{ ...minimal(5), lat: 91 }])),
      expect: refusedAcked('SCHEMA_INVALID', 5, [5, []]),
    },
    {
      name: 'seq 6 with one fix in 2100: the whole message is refused',
      message: sEd(telemetry(ed, 6, [minimal(6), { ...minimal(6, 1), ts: FUTURE_TS }])),
      expect: refusedAcked('FUTURE_TIMESTAMP', 6, [6, []]),
    },
    {
      name: 'seq 7 naming another device in its payload',
      message: sEd(telemetry('trk-conf-es', 7, [minimal(7)])),
      expect: refusedAcked('SUBJECT_MISMATCH', 7, [7, []]),
    },
    {
      name: 'seq 0: below the first seq (1)',
      message: sEd(telemetry(ed, 0, [minimal(0)])),
      expect: refusedAcked('STALE_SEQ', 0, [7, []]),
    },
    {
      name: 'seq 1000008: more than MAX_SEQ_JUMP (1,000,000) above the sender',
      message: sEd(telemetry(ed, 1_000_008, [minimal(9)])),
      expect: refusedAcked('SEQ_JUMP', 1_000_008, [7, [1_000_008]]),
    },
    { name: 'seq 8, signature damaged', message: flipped, expect: refusedSilently('SIGNATURE_INVALID') },
    { name: 'seq 8 with a trailing newline', message: `${valid8}\n`, expect: refusedSilently('MALFORMED') },
    {
      name: 'seq 8 as HS256 keyed with the public key',
      message: hs256,
      expect: refusedSilently('ALG_NOT_ALLOWED'),
    },
    {
      name: 'seq 8 with a jwk header',
      message: sEd(m8, { hdr: header('EdDSA', dev(ed).kid, { jwk: publicOf(dev(ed).privateJwk) }) }),
      expect: refusedSilently('HEADER_NOT_ALLOWED'),
    },
    {
      name: 'seq 8 with typ JWT',
      message: sEd(m8, { hdr: header('EdDSA', dev(ed).kid, {}, 'JWT') }),
      expect: refusedSilently('HEADER_NOT_ALLOWED'),
    },
    {
      name: 'seq 8 without typ',
      message: sEd(m8, { hdr: header('EdDSA', dev(ed).kid, {}, null) }),
      expect: refusedSilently('HEADER_NOT_ALLOWED'),
    },
    {
      name: 'seq 8 under an unregistered kid',
      message: compactJws(header('EdDSA', 'conf-unknown'), m8, 'EdDSA', edKey).jws,
      expect: refusedSilently('UNKNOWN_KEY'),
    },
    {
      name: "seq 8 signed with another device's key",
      message: signer('trk-conf-es')(m8),
      expect: refusedSilently('SUBJECT_MISMATCH'),
    },
    {
      name: `seq 8 of ${big.length} fixes: over 65,536 bytes`,
      message: oversized,
      expect: refusedSilently('PAYLOAD_TOO_LARGE'),
    },
    {
      name: 'seq 8 with v 2',
      message: sEd(m8.replace('{"v":1,', '{"v":2,')),
      expect: refusedAcked('SCHEMA_INVALID', 8, [8, []]),
    },
    {
      name: 'seq 9 with every field and unknown ones (kept in the evidence, not in positions)',
      message: sEd(telemetry(ed, 9, [{ ...full(9, 0), note: 'x' }, full(9, 1)], { fw: '1.4.2' })),
      expect: ok(2, 9, [9, []]),
    },
    {
      name: 'a signed payload that is not JSON: refused, no seq to acknowledge (the ack repeats what it knew)',
      message: sEd('seq 10'),
      expect: refusedAcked('MALFORMED', undefined, [9, []]),
    },
    { name: 'seq 10', message: sEd(telemetry(ed, 10, [minimal(10)])), expect: ok(1, 10, [10, []]) },
    {
      name: 'seq 11 with 501 fixes',
      message: sEd(telemetry(ed, 11, many(11, 501))),
      expect: refusedAcked('SCHEMA_INVALID', 11, [11, []]),
    },
    {
      name: 'seq 12 with 500 fixes',
      message: sEd(telemetry(ed, 12, many(12, 500))),
      expect: ok(500, 12, [12, []]),
    },
    {
      name: 'seq 13 with no fix',
      message: sEd(telemetry(ed, 13, [])),
      expect: refusedAcked('SCHEMA_INVALID', 13, [13, []]),
    },
    {
      name: 'seq 14 with a control character in an unknown field',
      message: sEd(telemetry(ed, 14, [minimal(14)], { fw: '1.4\u00012' })),
      expect: refusedAcked('SCHEMA_INVALID', 14, [14, []]),
    },
    { name: 'seq 15', message: sEd(telemetry(ed, 15, [full(15)])), expect: ok(1, 15, [15, []]) },
  ];

  // ---- trk-conf-es: ES256 signatures are R‖S ----
  const es = 'trk-conf-es';
  const sEs = signer(es);
  const e2 = telemetry(es, 2, [minimal(2)]);
  const esSteps: IngestStep[] = [
    {
      name: 'seq 1, ES256 as R‖S (64 bytes)',
      message: sEs(telemetry(es, 1, [minimal(1)])),
      expect: ok(1, 1, [1, []]),
    },
    {
      name: 'seq 2, ES256 as DER',
      message: sEs(e2, { der: true }),
      expect: refusedSilently('SIGNATURE_INVALID'),
    },
    {
      name: 'seq 2 claiming EdDSA for a key pinned to ES256',
      message: sEs(e2, { hdr: header('EdDSA', dev(es).kid) }),
      expect: refusedSilently('ALG_NOT_ALLOWED'),
    },
    { name: 'seq 2, R‖S', message: sEs(e2), expect: ok(1, 2, [2, []]) },
  ];

  // ---- trk-conf-rv: a message that arrives after its device was revoked ----
  const rv = 'trk-conf-rv';
  const rvSteps: IngestStep[] = [
    { name: 'seq 1', message: signer(rv)(telemetry(rv, 1, [minimal(1)])), expect: ok(1, 1, [1, []]) },
    { name: 'the device is revoked (POST /v1/devices/trk-conf-rv/revoke)', action: 'revoke' },
    {
      name: 'seq 2 arrives after the revocation (delivered by the broker for the device, here by the service user)',
      publishAs: 'service',
      message: signer(rv)(telemetry(rv, 2, [minimal(2)])),
      expect: refusedSilently('KEY_REVOKED'),
    },
  ];

  const withTopic = (id: string, steps: IngestStep[]) =>
    steps.map((s) =>
      s.message === undefined ? s : { ...s, topic: topic(id), publishAs: s.publishAs ?? 'device' },
    );
  return {
    description:
      "Messages published in order, one at a time (each waited for), to a chipwatch where the devices of keys.json are registered (POST /v1/devices with their publicJwk) and nothing else has happened; MAX_CLOCK_SKEW_S 300, MAX_SEQ_JUMP 1000000, INGEST_MAX_MESSAGE_BYTES 65536. `ack` is the seq and sack of the signed ack chipwatch publishes on the device's ack topic after the step (null: none). Run by tests/integration/conformance.test.ts.",
    topicPrefix: PREFIX,
    validUntil: new Date(FUTURE_TS - 300_000).toISOString(),
    scenarios: [
      {
        name: 'tracker-ed25519',
        description: 'An EdDSA tracker: gaps, duplicates, replays, and every refusal a tracker can cause.',
        device: ed,
        steps: withTopic(ed, edSteps),
      },
      {
        name: 'tracker-es256',
        description: 'ES256 is R‖S, never DER.',
        device: es,
        steps: withTopic(es, esSteps),
      },
      {
        name: 'tracker-revoked',
        description: 'Revocation refuses later messages without acknowledging them.',
        device: rv,
        steps: withTopic(rv, rvSteps),
      },
    ],
  };
}
