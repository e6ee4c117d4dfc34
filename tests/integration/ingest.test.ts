// The ingest path end to end over real sockets: a real PostgreSQL, a real broker (aedes in-process, and Mosquitto
// when installed — required under CI), chipwatch in-process, trackers from device-sim.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DeviceKey, generateDeviceKey } from '../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { mosquittoAvailable, startAedes, type TestBroker } from '../helpers/broker.ts';
import { eventually, registerDevice, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { startMosquittoForChipwatch } from '../helpers/mosquitto.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const brokers: [string, () => Promise<TestBroker>][] = [['aedes', startAedes]];
if (mosquittoAvailable()) brokers.push(['mosquitto', () => startMosquittoForChipwatch()]);
// Without Mosquitto (outside CI; under CI=true mosquittoAvailable throws) its suite shows as a skip with the reason.
describe.skipIf(brokers.length > 1)(
  'ingest through mosquitto — skipped: mosquitto is not installed (apt-get install -y mosquitto)',
  () => {
    it('runs the ingest suite on Mosquitto', () => {});
  },
);

const fixAt = (ts: number, i = 0) => ({
  ts,
  lat: 22.61 + i * 0.001,
  lon: 120.27 - i * 0.001,
  speedKmh: 30,
  satellites: 9,
});

describe.each(brokers)('ingest through %s', (_name, startBroker) => {
  let broker: TestBroker;
  let cw: TestChipwatch;
  const trackers: Tracker[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    cw = await startTestChipwatch({
      DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
      MQTT_URL: broker.url,
    });
  });
  afterAll(async () => {
    for (const t of trackers) await t.close();
    await cw?.stop();
    await broker?.stop();
  });

  async function newDevice(
    id: string,
    alg: 'EdDSA' | 'ES256' = 'EdDSA',
  ): Promise<{ key: DeviceKey; tracker: Tracker }> {
    // Registered through the API like real firmware: it connects with the answer's MQTT password.
    const { key, mqttPassword } = await registerDevice(cw, id, alg);
    const tracker = new Tracker({
      deviceId: id,
      key,
      mqttUrl: broker.url,
      ackKey: cw.ackKey,
      mqttPassword,
      resendAfterMs: 3000,
    });
    trackers.push(tracker);
    await tracker.waitConnected();
    return { key, tracker };
  }

  const storedRecords = async (deviceId: string) =>
    Number((await cw.sql('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [deviceId]))[0].n);
  const rejections = async (deviceId: string) =>
    (await cw.api('GET', `/v1/rejections?deviceId=${deviceId}&limit=1000`, { role: 'compliance' })).body
      .items as {
      reason: string;
      detail: string;
    }[];

  it('stores every record of signed telemetry, keeps the message as evidence, and acks after commit', async () => {
    const { tracker } = await newDevice('trk-basic');
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 20; i++) tracker.send([fixAt(t0 + i * 1000, i), fixAt(t0 + i * 1000 + 500, i)]);
    expect(await tracker.waitAllAcked(15_000)).toBe(true);
    expect(tracker.stats.acked).toBe(20);
    expect(await storedRecords('trk-basic')).toBe(40);
    const evidence = await cw.sql(
      'SELECT seq, jws, record_count FROM messages WHERE device_id = $1 ORDER BY seq',
      ['trk-basic'],
    );
    expect(evidence.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(evidence[0].jws.split('.')).toHaveLength(3);

    const page1 = await cw.api('GET', '/v1/devices/trk-basic/positions?limit=25', { role: 'logistics' });
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(25);
    expect(page1.body.items[0]).toMatchObject({
      ts: new Date(t0).toISOString(),
      lat: 22.61,
      lon: 120.27,
      flags: [],
    });
    const page2 = await cw.api(
      'GET',
      `/v1/devices/trk-basic/positions?limit=25&cursor=${page1.body.nextCursor}`,
      { role: 'logistics' },
    );
    expect(page2.body.items).toHaveLength(15);
    expect(page2.body.nextCursor).toBeNull();
    const from = new Date(t0 + 10_000).toISOString();
    const ranged = await cw.api('GET', `/v1/devices/trk-basic/positions?from=${from}`, { role: 'logistics' });
    expect(ranged.body.items).toHaveLength(20);

    const metrics = await (await fetch(`${cw.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/chipwatch_ingest_messages_total\{outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/chipwatch_ingest_commit_seconds_bucket/);
  });

  it('acks an exact duplicate without storing it twice, and refuses another payload under a used seq as REPLAY', async () => {
    const { key, tracker } = await newDevice('trk-replay');
    const jws = signCompactJws(buildTelemetry('trk-replay', 1, [fixAt(Date.now() - 5000)]), key);
    // Published outside the tracker's own bookkeeping, so the test sees each signed ack it gets.
    await tracker.sendRaw('telemetry', jws);
    expect(await eventually(async () => tracker.acks.length >= 1)).toBe(true);
    // The tracker missed the ack and sends the same message again: a duplicate, acknowledged again.
    await tracker.sendRaw('telemetry', jws);
    expect(await eventually(async () => tracker.acks.length >= 2)).toBe(true);
    expect(tracker.acks.map((a) => [a.seq, a.sack])).toEqual([
      [1, []],
      [1, []],
    ]);
    const replay = signCompactJws(buildTelemetry('trk-replay', 1, [fixAt(Date.now() - 4000, 5)]), key);
    await tracker.sendRaw('telemetry', replay);
    expect(await eventually(async () => (await rejections('trk-replay')).length === 1)).toBe(true);
    expect((await rejections('trk-replay'))[0]!.reason).toBe('REPLAY');
    expect(await storedRecords('trk-replay')).toBe(1);
    const metrics = await (await fetch(`${cw.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/chipwatch_ingest_messages_total\{outcome="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/chipwatch_ingest_rejections_total\{reason="REPLAY"\} [1-9]/);
  });

  it('refuses hostile input with its reason code, stays up, and stores exactly the valid records', async () => {
    const { key, tracker } = await newDevice('trk-hostile');
    const { key: keyB } = await newDevice('trk-hostile-b');
    const now = Date.now();
    const valid = (seq: number) => buildTelemetry('trk-hostile', seq, [fixAt(now - 10_000 + seq)]);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const topic = tracker.telemetryTopic;
    const flip = (jws: string) => {
      const [h, p, s] = jws.split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[0]! ^= 0x80;
      return `${h}.${p}.${sig.toString('base64url')}`;
    };
    const cases: [string, string | Buffer, string][] = [
      ['MALFORMED', 'not a jws at all', 'malformed JWS'],
      ['MALFORMED', signCompactJws('{"v":1,"deviceId":', key), 'bad JSON'],
      [
        'SCHEMA_INVALID',
        signCompactJws(
          `{"v":1,"deviceId":"trk-hostile","seq":100,"sentAt":${now},"records":[{"ts":${now},"lat":1e400,"lon":0}]}`,
          key,
        ),
        '1e400',
      ],
      [
        'SCHEMA_INVALID',
        signCompactJws(buildTelemetry('trk-hostile', 101, [{ ts: now, lat: 95, lon: 0 }]), key),
        'latitude out of range',
      ],
      [
        'MALFORMED',
        signCompactJws(
          `{"v":1,"deviceId":"trk-hostile","seq":102,"sentAt":${now},"records":[{"ts":${now},"lat":NaN,"lon":0}]}`,
          key,
        ),
        'NaN',
      ],
      // Larger packets (10 MB) never reach chipwatch: the broker closes the connection at the packet header
      // (tests/integration/mqtt-limits.test.ts).
      ['PAYLOAD_TOO_LARGE', Buffer.alloc(64 * 1024 + 1, 0x61), '64 KiB + 1'],
      ['SIGNATURE_INVALID', flip(signCompactJws(valid(103), key)), 'flipped bit'],
      [
        'ALG_NOT_ALLOWED',
        `${b64({ alg: 'none', kid: key.kid, typ: 'chipwatch-telemetry+jws' })}.${b64(valid(104))}.AA`,
        'alg none',
      ],
      [
        'ALG_NOT_ALLOWED',
        `${b64({ alg: 'HS256', kid: key.kid, typ: 'chipwatch-telemetry+jws' })}.${b64(valid(105))}.${'A'.repeat(43)}`,
        'HS256',
      ],
      ['HEADER_NOT_ALLOWED', signCompactJws(valid(106), key, undefined, { b64: false }), 'b64 false'],
      [
        'HEADER_NOT_ALLOWED',
        signCompactJws(valid(107), key, undefined, { jwk: key.publicJwk }),
        'jwk header',
      ],
      ['HEADER_NOT_ALLOWED', signCompactJws(valid(108), key, undefined, { crit: ['exp'] }), 'crit header'],
      ['UNKNOWN_KEY', signCompactJws(valid(109), generateDeviceKey()), 'unknown kid'],
      [
        'SUBJECT_MISMATCH',
        signCompactJws(buildTelemetry('trk-hostile', 110, [fixAt(now)]), keyB),
        "device B's key",
      ],
      [
        'FUTURE_TIMESTAMP',
        signCompactJws(buildTelemetry('trk-hostile', 111, [fixAt(now + 3_600_000)]), key),
        'an hour ahead',
      ],
    ];
    // Valid messages interleaved with the attacks.
    let validRecords = 0;
    for (const [i, [, payload]] of cases.entries()) {
      await tracker.sendRaw(topic, payload);
      tracker.send([fixAt(now - 20_000 + i * 10, i)]);
      validRecords++;
    }
    expect(await tracker.waitAllAcked(20_000)).toBe(true);
    const seen = await eventually(async () => {
      const r = await rejections('trk-hostile');
      return r.length >= cases.length ? r : undefined;
    });
    expect(seen?.map((r) => r.reason).sort()).toEqual(cases.map((c) => c[0]).sort());
    expect(await storedRecords('trk-hostile')).toBe(validRecords);
    expect((await cw.api('GET', '/readyz', { role: null })).status).toBe(200);
    // Unauthenticated junk keeps a small raw sample (REJECTION_UNAUTHENTICATED_RAW_CAP_BYTES), with the full size.
    const big = (
      await cw.api('GET', '/v1/rejections?deviceId=trk-hostile&reason=PAYLOAD_TOO_LARGE&includeRaw=true', {
        role: 'admin',
      })
    ).body.items;
    expect(big.map((r: { rawSize: number }) => r.rawSize)).toEqual([65537]);
    expect(Buffer.from(big[0].rawBase64, 'base64').length).toBe(512);
  });

  it('ends a revoked tracker’s MQTT access: nothing it sends afterwards is stored', async () => {
    const { tracker } = await newDevice('trk-revoke');
    tracker.send([fixAt(Date.now() - 3000)]);
    expect(await tracker.waitAllAcked(10_000)).toBe(true);
    const res = await cw.api('POST', '/v1/devices/trk-revoke/revoke', {
      body: { reason: 'lost in transit' },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('revoked');
    // The broker closes its connection within seconds and refuses it again (KEY_REVOKED for what was already in
    // flight is tested by arrival time in tests/integration/acks.test.ts).
    expect(await eventually(async () => !tracker.connected, 10_000)).toBe(true);
    tracker.send([fixAt(Date.now() - 2000)]);
    expect(await tracker.waitAllAcked(3_000)).toBe(false);
    expect(await storedRecords('trk-revoke')).toBe(1);
  });

  it('takes a 48-hour offline buffer sent as 500-record messages', async () => {
    const { tracker } = await newDevice('trk-offline', 'ES256');
    const start = Date.now() - 48 * 3600_000;
    const fixes = Array.from({ length: 48 * 120 }, (_, i) => fixAt(start + i * 30_000, i % 100));
    for (let i = 0; i < fixes.length; i += 500) tracker.send(fixes.slice(i, i + 500));
    expect(await tracker.waitAllAcked(30_000)).toBe(true);
    expect(await storedRecords('trk-offline')).toBe(fixes.length);
    const state = await cw.sql('SELECT highest_seq, last_fix_ts FROM device_state WHERE device_id = $1', [
      'trk-offline',
    ]);
    expect(state[0].highest_seq).toBe(Math.ceil(fixes.length / 500));
    expect(new Date(state[0].last_fix_ts).getTime()).toBe(fixes.at(-1)!.ts);
  });
});
