// Every verify rule of wire protocol v1, through the pipeline's screening stage with real keys and signatures;
// each refusal asserts its exact reason code. Keys come from a list instead of the database.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import type { Pool } from '../../../src/db/pool.ts';
import type { Inbound } from '../../../src/domain/messages.ts';
import { IngestPipeline } from '../../../src/ingest/pipeline.ts';
import { normalizePublicJwk } from '../../../src/verify/keys.ts';
import type { KeyRecord, Screened } from '../../../src/verify/screen.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const ed = generateDeviceKey('EdDSA');
const es = generateDeviceKey('ES256');
const other = generateDeviceKey('EdDSA');
const keys: KeyRecord[] = [
  { kid: ed.kid, ownerId: 'trk-a', alg: 'EdDSA', jwk: normalizePublicJwk(ed.publicJwk) },
  { kid: es.kid, ownerId: 'trk-es', alg: 'ES256', jwk: normalizePublicJwk(es.publicJwk) },
  { kid: other.kid, ownerId: 'trk-b', alg: 'EdDSA', jwk: normalizePublicJwk(other.publicJwk) },
];
const pipeline = new IngestPipeline(
  null as unknown as Pool, // screening never touches the database when keys come from a list
  {
    topicPrefix: 'chipwatch/v1',
    maxMessageBytes: 64 * 1024,
    rawCapBytes: 1024,
    maxClockSkewMs: 300_000,
    now: () => NOW,
  },
  async (sender, kids) => (sender === 'device' ? keys.filter((k) => kids.includes(k.kid)) : []),
);

const topic = (id: string) => `chipwatch/v1/devices/${id}/telemetry`;
const fix = (over: Record<string, unknown> = {}) => ({ ts: NOW - 60_000, lat: 22.61, lon: 120.27, ...over });
const payloadFor = (deviceId: string, seq = 1, records: unknown[] = [fix()]) =>
  ({ v: 1, deviceId, seq, sentAt: NOW, records }) as const;

async function screenOne(t: string, payload: string | Buffer): Promise<Screened> {
  const msg: Inbound = {
    topic: t,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    receivedAt: NOW,
  };
  const [s] = await pipeline.screen([msg]);
  return s!;
}

async function expectRefused(t: string, payload: string | Buffer, code: string): Promise<void> {
  const s = await screenOne(t, payload);
  expect(s.kind === 'refused' ? s.rejection.code : 'verified').toBe(code);
}

const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

describe('valid messages', () => {
  it('accepts an EdDSA-signed message and binds it to the topic device', async () => {
    const s = await screenOne(topic('trk-a'), signCompactJws(buildTelemetry('trk-a', 7, [fix()], NOW), ed));
    expect(s.kind).toBe('verified');
    if (s.kind === 'verified') {
      expect(s.senderId).toBe('trk-a');
      expect(s.payload.seq).toBe(7);
      expect(s.payloadSha256).toHaveLength(32);
    }
  });

  it('accepts an ES256-signed message (raw r||s signature)', async () => {
    const s = await screenOne(topic('trk-es'), signCompactJws(payloadFor('trk-es'), es));
    expect(s.kind).toBe('verified');
  });

  it('accepts a record up to 5 minutes ahead of the receiver clock', async () => {
    const s = await screenOne(
      topic('trk-a'),
      signCompactJws(payloadFor('trk-a', 1, [fix({ ts: NOW + 299_000 })]), ed),
    );
    expect(s.kind).toBe('verified');
  });

  it('drops a __proto__ member without polluting any prototype', async () => {
    const text = `{"v":1,"deviceId":"trk-a","seq":3,"sentAt":${NOW},"__proto__":{"polluted":true},"records":[{"ts":${NOW - 1000},"lat":1,"lon":2,"__proto__":{"admin":true}}]}`;
    const s = await screenOne(topic('trk-a'), signCompactJws(text, ed));
    expect(s.kind).toBe('verified');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('envelope', () => {
  it('refuses a payload over 64 KiB with PAYLOAD_TOO_LARGE', async () => {
    await expectRefused(topic('trk-a'), Buffer.alloc(64 * 1024 + 1, 0x41), 'PAYLOAD_TOO_LARGE');
  });
  it('refuses a 10 MB payload with PAYLOAD_TOO_LARGE', async () => {
    await expectRefused(topic('trk-a'), Buffer.alloc(10 * 1024 * 1024, 0x2e), 'PAYLOAD_TOO_LARGE');
  });
  it('refuses a message on a topic that is not a telemetry topic with MALFORMED', async () => {
    await expectRefused(
      'chipwatch/v1/devices/trk-a/other',
      signCompactJws(payloadFor('trk-a'), ed),
      'MALFORMED',
    );
  });
  it('refuses text that is not a compact JWS with MALFORMED', async () => {
    await expectRefused(topic('trk-a'), 'hello world', 'MALFORMED');
    await expectRefused(topic('trk-a'), 'a.b.c.d', 'MALFORMED');
    await expectRefused(topic('trk-a'), '{"seq":1}', 'MALFORMED');
  });
  it('refuses base64url with foreign characters with MALFORMED', async () => {
    const [h, p, s] = signCompactJws(payloadFor('trk-a'), ed).split('.');
    await expectRefused(topic('trk-a'), `${h}.${p}.${s}+/=`, 'MALFORMED');
  });
  it('refuses a header that is not a JSON object with MALFORMED', async () => {
    await expectRefused(topic('trk-a'), `${b64('not json')}.${b64(payloadFor('trk-a'))}.AAAA`, 'MALFORMED');
    await expectRefused(topic('trk-a'), `${b64([1, 2])}.${b64(payloadFor('trk-a'))}.AAAA`, 'MALFORMED');
  });
  it('refuses an empty signature with MALFORMED', async () => {
    const [h, p] = signCompactJws(payloadFor('trk-a'), ed).split('.');
    await expectRefused(topic('trk-a'), `${h}.${p}.`, 'MALFORMED');
  });
});

describe('header rules', () => {
  it('refuses alg "none" with ALG_NOT_ALLOWED', async () => {
    const h = b64({ alg: 'none', kid: ed.kid, typ: 'chipwatch-telemetry+jws' });
    await expectRefused(topic('trk-a'), `${h}.${b64(payloadFor('trk-a'))}.`, 'MALFORMED');
    await expectRefused(topic('trk-a'), `${h}.${b64(payloadFor('trk-a'))}.AAAA`, 'ALG_NOT_ALLOWED');
  });

  it('refuses HS256 signed with the public key as HMAC secret with ALG_NOT_ALLOWED', async () => {
    const h = b64({ alg: 'HS256', kid: ed.kid, typ: 'chipwatch-telemetry+jws' });
    const input = `${h}.${b64(payloadFor('trk-a'))}`;
    const mac = createHmac('sha256', JSON.stringify(ed.publicJwk)).update(input).digest('base64url');
    await expectRefused(topic('trk-a'), `${input}.${mac}`, 'ALG_NOT_ALLOWED');
  });

  it('refuses a missing alg with ALG_NOT_ALLOWED', async () => {
    const h = b64({ kid: ed.kid, typ: 'chipwatch-telemetry+jws' });
    await expectRefused(topic('trk-a'), `${h}.${b64(payloadFor('trk-a'))}.AAAA`, 'ALG_NOT_ALLOWED');
  });

  for (const name of ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64']) {
    it(`refuses the "${name}" header with HEADER_NOT_ALLOWED`, async () => {
      const value =
        name === 'b64' ? false : name === 'crit' ? ['b64'] : name === 'jwk' ? ed.publicJwk : 'https://x';
      await expectRefused(
        topic('trk-a'),
        signCompactJws(payloadFor('trk-a'), ed, undefined, { [name]: value }),
        'HEADER_NOT_ALLOWED',
      );
    });
  }

  for (const [what, kid] of [
    ['a NUL byte', 'k\u0000id'],
    ['a lone surrogate', '\ud800'],
    ['a space', 'my key'],
    ['129 characters', 'k'.repeat(129)],
  ]) {
    it(`refuses a kid with ${what} with MALFORMED, before any key lookup`, async () => {
      await expectRefused(
        topic('trk-a'),
        signCompactJws(payloadFor('trk-a'), { ...ed, kid: kid! }),
        'MALFORMED',
      );
    });
  }

  it('refuses a wrong typ with HEADER_NOT_ALLOWED', async () => {
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-a'), ed, 'JWT'), 'HEADER_NOT_ALLOWED');
    await expectRefused(
      topic('trk-a'),
      signCompactJws(payloadFor('trk-a'), ed, 'chipwatch-attestation+jws'),
      'HEADER_NOT_ALLOWED',
    );
  });

  it('refuses a header without kid with UNKNOWN_KEY', async () => {
    await expectRefused(
      topic('trk-a'),
      signCompactJws(payloadFor('trk-a'), ed, undefined, { kid: undefined }),
      'UNKNOWN_KEY',
    );
  });
});

describe('key binding and signature', () => {
  it('refuses an unregistered kid with UNKNOWN_KEY', async () => {
    const stranger = generateDeviceKey('EdDSA');
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-a'), stranger), 'UNKNOWN_KEY');
  });

  it("refuses device A's key on device B's topic with SUBJECT_MISMATCH", async () => {
    await expectRefused(topic('trk-b'), signCompactJws(payloadFor('trk-b'), ed), 'SUBJECT_MISMATCH');
  });

  it('refuses a payload naming another device than the topic with SUBJECT_MISMATCH', async () => {
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-b'), ed), 'SUBJECT_MISMATCH');
  });

  it('refuses an ES256 key used under alg EdDSA with ALG_NOT_ALLOWED (keys are pinned)', async () => {
    await expectRefused(
      topic('trk-es'),
      signCompactJws(payloadFor('trk-es'), es, undefined, { alg: 'EdDSA' }),
      'ALG_NOT_ALLOWED',
    );
  });

  it('refuses a flipped bit in the signature with SIGNATURE_INVALID', async () => {
    const jws = signCompactJws(payloadFor('trk-a'), ed);
    const [h, p, s] = jws.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10]! ^= 0x01;
    await expectRefused(topic('trk-a'), `${h}.${p}.${sig.toString('base64url')}`, 'SIGNATURE_INVALID');
  });

  it('refuses a flipped bit in the payload with SIGNATURE_INVALID', async () => {
    const jws = signCompactJws(payloadFor('trk-a'), ed);
    const [h, p, s] = jws.split('.') as [string, string, string];
    const body = Buffer.from(p, 'base64url');
    body[body.length - 5]! ^= 0x01;
    await expectRefused(topic('trk-a'), `${h}.${body.toString('base64url')}.${s}`, 'SIGNATURE_INVALID');
  });

  it('refuses a signature of the wrong length with SIGNATURE_INVALID', async () => {
    const [h, p] = signCompactJws(payloadFor('trk-a'), ed).split('.');
    await expectRefused(topic('trk-a'), `${h}.${p}.${b64('short')}`, 'SIGNATURE_INVALID');
  });
});

describe('payload schema', () => {
  const signed = (text: string) => signCompactJws(text, ed);

  it('refuses a signed payload that is not JSON with MALFORMED', async () => {
    await expectRefused(topic('trk-a'), signed('{"v":1,'), 'MALFORMED');
  });
  it('refuses NaN (not JSON) with MALFORMED', async () => {
    await expectRefused(
      topic('trk-a'),
      signed(
        `{"v":1,"deviceId":"trk-a","seq":1,"sentAt":${NOW},"records":[{"ts":${NOW},"lat":NaN,"lon":1}]}`,
      ),
      'MALFORMED',
    );
  });
  it('refuses 1e400 (parses to Infinity) with SCHEMA_INVALID', async () => {
    await expectRefused(
      topic('trk-a'),
      signed(
        `{"v":1,"deviceId":"trk-a","seq":1,"sentAt":${NOW},"records":[{"ts":${NOW},"lat":1e400,"lon":1}]}`,
      ),
      'SCHEMA_INVALID',
    );
  });
  for (const [name, rec] of [
    ['latitude above 90', fix({ lat: 90.0001 })],
    ['latitude below -90', fix({ lat: -91 })],
    ['longitude above 180', fix({ lon: 180.5 })],
    ['longitude below -180', fix({ lon: -181 })],
    ['a string latitude', fix({ lat: '22.6' })],
    ['a missing ts', { lat: 1, lon: 2 }],
    ['a fractional ts', fix({ ts: NOW - 0.5 })],
    ['negative satellites', fix({ satellites: -1 })],
  ] as const) {
    it(`refuses ${name} with SCHEMA_INVALID`, async () => {
      await expectRefused(
        topic('trk-a'),
        signCompactJws(payloadFor('trk-a', 1, [rec]), ed),
        'SCHEMA_INVALID',
      );
    });
  }
  it('refuses an empty records list and one of 501 records with SCHEMA_INVALID', async () => {
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-a', 1, []), ed), 'SCHEMA_INVALID');
    const many = Array.from({ length: 501 }, (_, i) => fix({ ts: NOW - 600_000 + i }));
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-a', 1, many), ed), 'SCHEMA_INVALID');
  });
  it('refuses a wrong protocol version and a negative seq with SCHEMA_INVALID', async () => {
    await expectRefused(
      topic('trk-a'),
      signCompactJws({ ...payloadFor('trk-a'), v: 2 }, ed),
      'SCHEMA_INVALID',
    );
    await expectRefused(topic('trk-a'), signCompactJws(payloadFor('trk-a', -1), ed), 'SCHEMA_INVALID');
  });
  it('refuses a record more than 5 minutes in the future with FUTURE_TIMESTAMP', async () => {
    await expectRefused(
      topic('trk-a'),
      signCompactJws(payloadFor('trk-a', 1, [fix(), fix({ ts: NOW + 301_000 })]), ed),
      'FUTURE_TIMESTAMP',
    );
  });
  it('marks schema refusals of a correctly signed message as authenticated (its seq may be acknowledged)', async () => {
    const s = await screenOne(
      topic('trk-a'),
      signCompactJws(payloadFor('trk-a', 9, [fix({ lat: 100 })]), ed),
    );
    expect(s.kind === 'refused' && s.authenticated && s.seq).toBe(9);
  });
  it('never marks a refusal before the signature verified as authenticated', async () => {
    const s = await screenOne(topic('trk-b'), signCompactJws(payloadFor('trk-b', 9), ed));
    expect(s.kind === 'refused' && s.authenticated).toBe(false);
  });
});
