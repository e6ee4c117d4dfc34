// The bench's open MQTT edge (startChipwatch's `benchmarkOnly.openEdge`, bench/ingest.bench.ts) is an in-process
// option only: a chipwatch started from its configuration, with the embedded broker, refuses anonymous clients and
// signs every ack; only the option, which no configuration key or environment variable reaches, opens the edge.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { createLogger } from '../../src/log.ts';
import { type Running, type StartOptions, startChipwatch } from '../../src/server.ts';
import { ackCovers, verifyAck } from '../../src/verify/ack.ts';
import { connectClient } from '../helpers/broker.ts';
import { apiAt, registerDevice, testConfig, until } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const P = 'chipwatch/v1';
const running: Running[] = [];
const clients: MqttClient[] = [];
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  for (const r of running) await r.stop();
});

/** chipwatch from its configuration alone: embedded aedes on a free port, a test database. */
async function start(options?: StartOptions): Promise<Running> {
  const config = testConfig({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'cw-edge-')),
  });
  const r = await startChipwatch(config, createLogger(config.LOG_LEVEL), options);
  running.push(r);
  return r;
}

const connect = (url: string, opts: IClientOptions) => connectClient(url, opts, clients);

/** The CONNACK return code of a refused connect, 0 when admitted. */
async function refusal(url: string, opts: IClientOptions): Promise<number | string | undefined> {
  try {
    await (await connect(url, opts)).endAsync(true);
    return 0;
  } catch (err) {
    return (err as { code?: number | string }).code;
  }
}

/** Registers a tracker, publishes its seq 1 (connected as `auth` says) and returns the first ack payload it gets. */
async function publishAndTakeAck(
  r: Running,
  auth: 'credentials' | 'anonymous',
): Promise<{ id: string; raw: string }> {
  const d = await registerDevice(apiAt(r.httpUrl!));
  const c = await connect(r.mqttUrl, auth === 'credentials' ? d.mqtt : { clientId: d.id });
  const acks: string[] = [];
  c.on('message', (_t, payload) => acks.push(payload.toString('utf8')));
  await c.subscribeAsync(`${P}/devices/${d.id}/ack`, { qos: 1 });
  const record = { ts: Date.now() - 1000, lat: 15.1, lon: 125.1, speedKmh: 30, headingDeg: 45, hdop: 0.9 };
  await c.publishAsync(
    `${P}/devices/${d.id}/telemetry`,
    signCompactJws(buildTelemetry(d.id, 1, [record]), d.key),
    {
      qos: 1,
    },
  );
  await until('an ack', async () => acks.length > 0);
  return { id: d.id, raw: acks[0]! };
}

describe('the MQTT edge of a chipwatch started from its configuration', () => {
  it('refuses an anonymous client (CONNACK 4) and signs its acks with the published ack key', async () => {
    const r = await start();
    expect(await refusal(r.mqttUrl, { clientId: 'anonymous-probe' })).toBe(4);
    const { id, raw } = await publishAndTakeAck(r, 'credentials');
    expect(raw.split('.')).toHaveLength(3);
    const ack = verifyAck(raw, r.ackKey, 'device', id);
    expect(ack && ackCovers(ack, 1)).toBe(true);
  });

  it('opens only through the in-process benchmarkOnly.openEdge: anonymous clients, unsigned acks', async () => {
    const r = await start({ benchmarkOnly: { openEdge: true } });
    expect(await refusal(r.mqttUrl, { clientId: 'anonymous-probe' })).toBe(0);
    const { id, raw } = await publishAndTakeAck(r, 'anonymous');
    // A tracker verifying acks takes none of these: they are for the bench's publisher only.
    expect(verifyAck(raw, r.ackKey, 'device', id)).toBeUndefined();
    expect(JSON.parse(raw)).toMatchObject({ v: 1, deviceId: id, seq: 1, sack: [] });
  });

  it('has no configuration key or environment variable for it: only startChipwatch’s third argument', () => {
    const src = join(import.meta.dirname, '../../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const mentioning = files.filter((f) => /benchmarkOnly|openEdge/.test(readFileSync(join(src, f), 'utf8')));
    expect(mentioning.sort()).toEqual(['embedded/broker.ts', 'server.ts', 'verify/ack.ts']);
    const server = readFileSync(join(src, 'server.ts'), 'utf8');
    expect(server).not.toMatch(/process\.env/);
    expect(server).toMatch(/const openEdge = opts\.benchmarkOnly\?\.openEdge === true;/);
  });
});
