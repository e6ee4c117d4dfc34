// The id grammar (src/domain/ids.ts) refuses "." and "..": no URL can carry them (a URL library removes them as
// dot-segments, so GET /v1/devices/.. would reach /v1), so no tracker or site may have one, and a message on a topic
// naming one is refused MALFORMED before any key is looked up.
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { ID_PATTERN, isId } from '../../src/domain/ids.ts';
import { envelopeOf } from '../../src/ingest/topics.ts';
import { Screener } from '../../src/verify/screen.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

describe('the id grammar', () => {
  it('refuses exactly the dot-only ids "." and ".."', () => {
    expect(isId('.')).toBe(false);
    expect(isId('..')).toBe(false);
    for (const ok of ['...', '.a', 'a.', '..a', 'trk-000042', 'a:b_c.d-e', 'x'.repeat(128)])
      expect(isId(ok), ok).toBe(true);
    for (const bad of ['', 'x'.repeat(129), 'a/b', 'a b', 'a+b', 'a#b']) expect(isId(bad), bad).toBe(false);
  });

  it('is one pattern a JSON Schema validator can use as it stands (ECMA-262, no flags)', () => {
    expect(ID_PATTERN.flags).toBe('');
    expect(new RegExp(ID_PATTERN.source, 'u').test('..')).toBe(false);
    expect(new RegExp(ID_PATTERN.source, 'u').test('trk.1')).toBe(true);
  });
});

describe('a topic naming a dot-only id', () => {
  const key = generateDeviceKey('EdDSA');
  const lookups: string[][] = [];
  const screener = new Screener({
    maxMessageBytes: 64 * 1024,
    maxClockSkewMs: 300_000,
    now: () => NOW,
    lookupKeys: async (_sender, kids) => {
      lookups.push(kids);
      return [];
    },
  });
  const payload = (deviceId: string) =>
    Buffer.from(signCompactJws(buildTelemetry(deviceId, 1, [{ ts: NOW - 1000, lat: 1, lon: 2 }], NOW), key));

  it.each([
    ['chipwatch/v1/devices/../telemetry', '..'],
    ['chipwatch/v1/devices/./telemetry', '.'],
  ])('%s is refused MALFORMED "not a telemetry topic", no key looked up', async (topic, id) => {
    const env = envelopeOf('chipwatch/v1', { topic, payload: payload(id), receivedAt: NOW });
    expect(env.senderId).toBeNull();
    lookups.length = 0;
    const [out] = await screener.screen([env]);
    expect(out).toMatchObject({
      kind: 'refused',
      senderId: null,
      authenticated: false,
      rejection: { code: 'MALFORMED', message: `not a telemetry topic: ${topic}` },
    });
    expect(lookups).toEqual([]);
  });

  it("chipwatch/v1/sites/../attestations is no site's topic: read as a tracker's, it is refused MALFORMED", async () => {
    const topic = 'chipwatch/v1/sites/../attestations';
    const env = envelopeOf('chipwatch/v1', { topic, payload: payload('..'), receivedAt: NOW });
    expect(env).toMatchObject({ sender: 'device', senderId: null });
    const [out] = await screener.screen([env]);
    expect(out).toMatchObject({
      rejection: { code: 'MALFORMED', message: `not a telemetry topic: ${topic}` },
    });
  });
});
