// Screener edges (src/verify/screen.ts): the size limit inclusive, the MALFORMED detail for each kind, keys looked
// up once per kid and per kind, and what a refusal carries (sender, kid, seq; authenticated only after the signature).
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import type { SenderKind } from '../../../src/domain/messages.ts';
import { normalizePublicJwk } from '../../../src/verify/keys.ts';
import { type Envelope, type KeyRecord, Screener } from '../../../src/verify/screen.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const key = generateDeviceKey('EdDSA');
const record: KeyRecord = {
  kid: key.kid,
  ownerId: 'trk-a',
  alg: 'EdDSA',
  jwk: normalizePublicJwk(key.publicJwk),
};

function screener(maxMessageBytes = 64 * 1024) {
  const calls: [SenderKind, string[]][] = [];
  const s = new Screener({
    maxMessageBytes,
    maxClockSkewMs: 300_000,
    now: () => NOW,
    lookupKeys: async (sender, kids) => {
      calls.push([sender, kids]);
      return sender === 'device' ? [record].filter((r) => kids.includes(r.kid)) : [];
    },
  });
  return { s, calls };
}
const env = (
  payload: string,
  senderId: string | null = 'trk-a',
  sender: SenderKind = 'device',
): Envelope => ({
  msg: {
    topic: `chipwatch/v1/devices/${senderId}/telemetry`,
    payload: Buffer.from(payload),
    receivedAt: NOW,
  },
  sender,
  senderId,
});
const jws = (seq = 1, deviceId = 'trk-a') =>
  signCompactJws(buildTelemetry(deviceId, seq, [{ ts: NOW - 1000, lat: 1, lon: 2 }], NOW), key);

describe('Screener', () => {
  it('takes a message of exactly maxMessageBytes and refuses one byte more, saying both sizes', async () => {
    const p = jws();
    const [atLimit] = await screener(p.length).s.screen([env(p)]);
    expect(atLimit?.kind).toBe('verified');
    const [over] = await screener(p.length - 1).s.screen([env(p)]);
    expect(over).toMatchObject({
      kind: 'refused',
      senderId: 'trk-a',
      authenticated: false,
      rejection: { code: 'PAYLOAD_TOO_LARGE', message: `${p.length} bytes, the limit is ${p.length - 1}` },
    });
  });

  it('names the topic kind in MALFORMED: "a telemetry topic" for trackers, "an attestation topic" for sites', async () => {
    const { s } = screener();
    const [d] = await s.screen([
      { ...env(jws(), null), msg: { topic: 'x/y', payload: Buffer.from(jws()), receivedAt: NOW } },
    ]);
    expect(d).toMatchObject({
      kind: 'refused',
      senderId: null,
      rejection: { code: 'MALFORMED', message: 'not a telemetry topic: x/y' },
    });
    const [site] = await s.screen([
      { msg: { topic: 'x/z', payload: Buffer.from(jws()), receivedAt: NOW }, sender: 'site', senderId: null },
    ]);
    expect(site).toMatchObject({
      rejection: { code: 'MALFORMED', message: 'not an attestation topic: x/z' },
    });
  });

  it('looks each kid up once, per kind, and never again once known', async () => {
    const { s, calls } = screener();
    await s.screen([env(jws(1)), env(jws(2))]);
    await s.screen([env(jws(3))]);
    expect(calls.filter(([k]) => k === 'device')).toEqual([['device', [key.kid]]]);
    expect(calls.filter(([k]) => k === 'site')).toEqual([]);
  });

  it('a bad signature is refused with sender, kid and seq, unauthenticated; a subject mismatch authenticated', async () => {
    const { s } = screener();
    const good = jws(5);
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
    const [bad] = await s.screen([env(forged)]);
    expect(bad).toMatchObject({
      kind: 'refused',
      senderId: 'trk-a',
      kid: key.kid,
      seq: 5,
      authenticated: false,
      rejection: { code: 'SIGNATURE_INVALID' },
    });
    // Signed by trk-a's key for trk-a, published on trk-a's topic but claiming trk-b.
    const other = signCompactJws(buildTelemetry('trk-b', 6, [{ ts: NOW - 1000, lat: 1, lon: 2 }], NOW), key);
    const [mismatch] = await s.screen([env(other)]);
    expect(mismatch).toMatchObject({
      kind: 'refused',
      senderId: 'trk-a',
      kid: key.kid,
      seq: 6,
      authenticated: true,
      rejection: { code: 'SUBJECT_MISMATCH', message: 'payload deviceId "trk-b" is not the topic\'s device' },
    });
  });
});
