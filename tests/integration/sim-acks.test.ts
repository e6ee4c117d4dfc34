// The simulator's tracker deletes from its buffer only what an ack signed by the pinned key covers: an unsigned ack,
// one signed by another key, or one for another tracker deletes nothing, even published by a broker insider (here:
// chipwatch's own service user, the only one the broker lets publish on ack topics).

import { generateKeyPairSync } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { loadOwnKey } from '../../src/keyfile.ts';
import { ACK_KEY_FILE, signAck } from '../../src/verify/ack.ts';
import { serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import { eventually, registerDevice, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
let insider: mqtt.MqttClient;
let tracker: Tracker;

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
  insider = await mqtt.connectAsync(broker.url, {
    clientId: `insider-${Date.now()}`,
    ...serviceOptions(broker),
  });
});
afterAll(async () => {
  await tracker?.close();
  await insider?.endAsync();
  await cw?.stop();
  await broker?.stop();
});

describe('acks the simulated tracker trusts', () => {
  it('deletes nothing on a forged, unsigned or foreign ack, and exactly what a genuine one covers', async () => {
    const { mqttPassword } = await registerDevice(cw, 'trk-forged-acks');
    // Signed with a key chipwatch does not know: refused UNKNOWN_KEY, so chipwatch itself never acks these.
    tracker = new Tracker({
      deviceId: 'trk-forged-acks',
      key: generateDeviceKey(),
      mqttUrl: broker.url,
      ackKey: cw.ackKey,
      mqttPassword,
      resendAfterMs: 60_000,
    });
    await tracker.waitConnected();
    for (let i = 0; i < 3; i++) tracker.send([{ ts: Date.now() - 1000 + i, lat: 10, lon: 20 }]);
    expect(tracker.pendingCount).toBe(3);

    const other = generateKeyPairSync('ed25519');
    const forgedKey = { privateKey: other.privateKey, fingerprint: cw.ackKey.x };
    const genuine = loadOwnKey(cw.config.ACK_SIGNING_KEY_FILE, cw.config.DATA_DIR, ACK_KEY_FILE, 'ack key');
    const forgeries = [
      JSON.stringify({ seq: 9_007_199_254_740_991 }), // the old, unsigned format
      signAck(forgedKey, 'device', 'trk-forged-acks', { seq: 100, sack: [] }), // signed by another key
      signAck(genuine, 'device', 'trk-someone-else', { seq: 100, sack: [] }), // genuine, for another tracker
    ];
    for (const f of forgeries) await insider.publishAsync(tracker.ackTopic, f, { qos: 1 });
    expect(await eventually(async () => tracker.stats.unverifiedAcks >= forgeries.length)).toBe(true);
    expect(tracker.pendingCount).toBe(3);
    expect(tracker.stats.acked).toBe(0);

    // The positive control: an ack signed by chipwatch's key for this tracker deletes exactly what it covers.
    await insider.publishAsync(
      tracker.ackTopic,
      signAck(genuine, 'device', 'trk-forged-acks', { seq: 1, sack: [3] }),
      {
        qos: 1,
      },
    );
    expect(await eventually(async () => tracker.pendingCount === 1)).toBe(true);
    expect(tracker.stats.acked).toBe(2);
  });
});
