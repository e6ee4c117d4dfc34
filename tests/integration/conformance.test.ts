// The conformance vectors (conformance/vectors/*.json) against a real chipwatch, broker and PostgreSQL: the vector
// devices are registered through the API, each message is published over MQTT with the registration's credentials,
// and every verdict (GET /v1/rejections, stored positions) and every signed ack is compared to the vector.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { selfTest } from '../../conformance/check-signer.ts';
import { staleFiles } from '../../conformance/generate.ts';
import type { IngestFile, KeysFile } from '../../conformance/lib.ts';
import acksJson from '../../conformance/vectors/acks.json' with { type: 'json' };
import ingestJson from '../../conformance/vectors/ingest.json' with { type: 'json' };
import keysJson from '../../conformance/vectors/keys.json' with { type: 'json' };
import { type AckPayload, ackCovers, verifyAck } from '../../src/verify/ack.ts';
import { serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import { eventually, startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const keys = keysJson as unknown as KeysFile;
const vectors = ingestJson as unknown as IngestFile;
const FROM = '2025-11-20T00:00:00Z';
const TO = '2025-11-24T00:00:00Z';

let broker: TestBroker;
let cw: TestChipwatch;
const creds = new Map<string, { password: string; ackKey: { publicJwk: any; fingerprint: string } }>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-conformance-'));
  const ackKeyFile = join(dir, 'ack-key.pem');
  writeFileSync(ackKeyFile, keys.ackKey.pkcs8Pem, { mode: 0o600 });
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
    DATA_DIR: dir,
    ACK_SIGNING_KEY_FILE: ackKeyFile,
    MAX_CLOCK_SKEW_S: '300',
    MAX_SEQ_JUMP: '1000000',
    INGEST_MAX_MESSAGE_BYTES: '65536',
    // A step reads the rejections and positions a few times: far more API calls a minute than a person makes.
    RATE_LIMIT_PER_MIN: '100000',
    RATE_LIMIT_BURST: '10000',
  });
  for (const d of keys.devices) {
    const res = await cw.api('POST', '/v1/devices', { body: { id: d.id, publicKeyJwk: d.publicJwk } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    creds.set(d.id, { password: res.body.mqttPassword, ackKey: res.body.ackKey });
  }
});
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await cw?.stop();
  await broker?.stop();
});

async function connect(opts: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

async function rejections(deviceId: string): Promise<any[]> {
  const res = await cw.api('GET', `/v1/rejections?deviceId=${deviceId}&limit=1000`, { role: 'compliance' });
  expect(res.status).toBe(200);
  return res.body.items;
}

async function positions(deviceId: string): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const q: string = `from=${FROM}&to=${TO}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await cw.api('GET', `/v1/devices/${deviceId}/positions?${q}`, { role: 'compliance' });
    expect(res.status).toBe(200);
    n += res.body.items.length;
    cursor = res.body.nextCursor;
  } while (cursor);
  return n;
}

describe('the vectors are what the generator makes', () => {
  it('conformance/generate.ts --check finds nothing stale (vectors and the examples of docs/protocol.md)', () => {
    expect(staleFiles()).toEqual([]);
  });

  it("check-signer's self-test passes: node:crypto's messages verify, every mustRefuse case gets its code", () => {
    expect(selfTest()).toEqual([]);
  });

  it("acks.json: chipwatch's own verifyAck accepts exactly the valid acks, covering exactly what they say", () => {
    for (const c of acksJson.cases) {
      const ack = verifyAck(c.ack, acksJson.ackKey as any, 'device', acksJson.deviceId);
      expect(ack !== undefined, c.name).toBe(c.valid);
      for (const s of c.covers ?? []) expect(ackCovers(ack!, s), `${c.name} covers ${s}`).toBe(true);
      for (const s of c.notCovered ?? []) expect(ackCovers(ack!, s), `${c.name} leaves ${s}`).toBe(false);
    }
  });
});

describe('ingest vectors against a real chipwatch', () => {
  it('registration hands out the vectors’ ack key (ACK_SIGNING_KEY_FILE)', () => {
    for (const d of keys.devices) expect(creds.get(d.id)?.ackKey.fingerprint).toBe(keys.ackKey.fingerprint);
  });

  for (const scenario of vectors.scenarios) {
    it(`${scenario.name}: every verdict and every signed ack as the vector says`, async () => {
      const id = scenario.device;
      const cred = creds.get(id)!;
      const device = await connect({ username: id, password: cred.password, clientId: id, clean: true });
      const acks: { raw: string; ack: AckPayload | undefined }[] = [];
      device.on('message', (_t, payload) =>
        acks.push({ raw: payload.toString(), ack: verifyAck(payload, cred.ackKey.publicJwk, 'device', id) }),
      );
      await device.subscribeAsync(`${vectors.topicPrefix}/devices/${id}/ack`, { qos: 1 });
      let service: MqttClient | undefined;

      for (const step of scenario.steps) {
        if (step.action === 'revoke') {
          expect((await cw.api('POST', `/v1/devices/${id}/revoke`, { body: {} })).status).toBe(200);
          continue;
        }
        const exp = step.expect!;
        const before = { rej: (await rejections(id)).length, pos: await positions(id), acks: acks.length };
        let via = device;
        if (step.publishAs === 'service') {
          service ??= await connect({ ...serviceOptions(broker), clientId: `conformance-${Date.now()}` });
          via = service;
        }
        await via.publishAsync(step.topic!, Buffer.from(step.message!, 'latin1'), { qos: 1 });
        // An ack comes after the batch's commit; a step without one is done when its rejection is stored.
        if (exp.ack) expect(await eventually(async () => acks.length > before.acks), step.name).toBe(true);
        else {
          expect(await eventually(async () => (await rejections(id)).length > before.rej), step.name).toBe(
            true,
          );
          await new Promise((r) => setTimeout(r, 300));
        }

        const all = await rejections(id);
        const newRej = all.slice(0, all.length - before.rej);
        if (exp.outcome === 'refused') {
          expect(
            newRej.map((r) => r.reason),
            step.name,
          ).toEqual([exp.code]);
          expect(newRej[0].authenticated, step.name).toBe(exp.authenticated);
          if (exp.seq !== undefined) expect(newRej[0].seq, step.name).toBe(exp.seq);
        } else {
          expect(newRej, step.name).toEqual([]);
        }
        expect((await positions(id)) - before.pos, step.name).toBe(exp.records);

        const fresh = acks.slice(before.acks);
        if (exp.ack === null) {
          expect(fresh, `${step.name}: no ack`).toEqual([]);
          continue;
        }
        expect(fresh.length, `${step.name}: one ack`).toBe(1);
        const got = fresh[0]!;
        expect(got.ack, `${step.name}: the ack verifies with the registration's ack key`).toBeDefined();
        const header = JSON.parse(Buffer.from(got.raw.split('.')[0]!, 'base64url').toString());
        expect(header).toEqual({ alg: 'EdDSA', kid: keys.ackKey.fingerprint, typ: 'chipwatch-ack+jws' });
        expect({ seq: got.ack!.seq, sack: got.ack!.sack }, step.name).toEqual(exp.ack);
        if (exp.seq !== undefined)
          expect(ackCovers(got.ack!, exp.seq), `${step.name}: covered`).toBe(exp.acked);
      }
    });
  }
});
