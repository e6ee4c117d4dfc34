// The naive consumer chipwatch is compared with: one message at a time, synchronous node:crypto verify, then
// BEGIN; INSERT the message; one INSERT per record; COMMIT; ack. Own database, own tables, own broker (an aedes it
// starts, unless given one), so it shares nothing with chipwatch but the PostgreSQL server and the process.

import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import mqtt from 'mqtt';
import pg from 'pg';
import type { CredentialSource } from '../src/broker/aedes-gate.ts';
import { startEmbeddedBroker } from '../src/embedded/broker.ts';
import { signAck } from '../src/verify/ack.ts';
import type { BenchDevice } from './messages.ts';

export interface Baseline {
  mqttUrl: string;
  /** The public key its acks are signed with. */
  ackKey: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  /** Rows stored so far, and messages refused (should stay 0). */
  counts(): Promise<{ messages: number; records: number; refused: number }>;
  stop(): Promise<void>;
}

interface TelemetryJson {
  deviceId: string;
  seq: number;
  records: Record<string, number | boolean | undefined>[];
}

const SCHEMA = `
CREATE TABLE baseline_messages (
  device_id text NOT NULL, seq bigint NOT NULL, payload_sha256 bytea NOT NULL, kid text NOT NULL, topic text NOT NULL,
  jws text NOT NULL, record_count integer NOT NULL, received_at timestamptz NOT NULL, PRIMARY KEY (device_id, seq));
CREATE TABLE baseline_telemetry (
  device_id text NOT NULL, ts timestamptz NOT NULL, seq bigint NOT NULL, idx smallint NOT NULL,
  lat double precision NOT NULL, lon double precision NOT NULL, alt_m real, speed_kmh real, heading_deg real,
  hdop real, satellites smallint, battery_pct real, temperature_c real, light_lux real, tamper boolean,
  received_at timestamptz NOT NULL);
CREATE INDEX baseline_telemetry_device_ts ON baseline_telemetry (device_id, ts DESC, seq DESC, idx DESC);`;

const INSERT_MESSAGE = `INSERT INTO baseline_messages (device_id, seq, payload_sha256, kid, topic, jws, record_count, received_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0))`;
const INSERT_RECORD = `INSERT INTO baseline_telemetry (device_id, ts, seq, idx, lat, lon, alt_m, speed_kmh, heading_deg, hdop,
  satellites, battery_pct, temperature_c, light_lux, tamper, received_at)
  VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, to_timestamp($16 / 1000.0))`;

/**
 * Creates schema `dbName` in the database of `adminUrl` (chipwatch's own role may create schemas in its database,
 * not databases), its tables, an aedes broker, and starts consuming. Its acks are signed like chipwatch's, with a
 * key of its own, so the publisher does the same work for both.
 */
export async function startBaseline(o: {
  adminUrl: string;
  dbName: string;
  devices: BenchDevice[];
  prefix: string;
  /** A broker of its own to consume from; unset → an embedded aedes started here. */
  mqttUrl?: string;
  /** Where the embedded aedes reads trackers' credentials (chipwatch's database). */
  credentials?: CredentialSource;
  /** The service user of `mqttUrl` (a Mosquitto the bench provisioned). */
  service?: { username: string; password: string };
}): Promise<Baseline> {
  const db = new pg.Client(o.adminUrl);
  await db.connect();
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${o.dbName}`);
  await db.query(`SET search_path TO ${o.dbName}`);
  await db.query(SCHEMA);
  const ackKey = generateKeyPairSync('ed25519');
  const ackSigner = { privateKey: ackKey.privateKey, fingerprint: 'bench-baseline' };

  const keys = new Map<string, { deviceId: string; key: KeyObject }>(
    o.devices.map((d) => [d.key.kid, { deviceId: d.id, key: createPublicKey(d.key.privateKey) }]),
  );
  // Its own aedes, admitting the same trackers (their credentials are in chipwatch's database) and itself as the
  // broker's service user: the same authentication work as chipwatch's embedded broker.
  const broker = o.mqttUrl
    ? undefined
    : await startEmbeddedBroker({ host: '127.0.0.1', port: 0, credentials: o.credentials });
  const mqttUrl = o.mqttUrl ?? broker!.url;
  const client = await mqtt.connectAsync(mqttUrl, {
    protocolVersion: 4,
    clean: true,
    clientId: 'bench-baseline',
    reconnectPeriod: 0,
    ...(broker ? { username: broker.service.username, password: broker.service.password } : o.service),
  });
  let refused = 0;

  const handle = async (topic: string, payload: Buffer): Promise<void> => {
    const receivedAt = Date.now();
    const deviceId = topic.slice(o.prefix.length + '/devices/'.length, -'/telemetry'.length);
    const [h = '', p = '', s = ''] = payload.toString('latin1').split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { kid?: string };
    const entry = keys.get(header.kid ?? '');
    if (!entry || entry.deviceId !== deviceId) throw new Error(`unknown key ${header.kid} for ${deviceId}`);
    if (!verify(null, Buffer.from(`${h}.${p}`, 'latin1'), entry.key, Buffer.from(s, 'base64url'))) {
      throw new Error(`bad signature from ${deviceId}`);
    }
    const body = Buffer.from(p, 'base64url');
    const msg = JSON.parse(body.toString('utf8')) as TelemetryJson;
    if (msg.deviceId !== deviceId) throw new Error(`payload of ${msg.deviceId} on ${deviceId}'s topic`);
    const sha = createHash('sha256').update(body).digest();
    await db.query('BEGIN');
    try {
      await db.query(INSERT_MESSAGE, [
        deviceId,
        msg.seq,
        sha,
        header.kid,
        topic,
        payload.toString('latin1'),
        msg.records.length,
        receivedAt,
      ]);
      for (const [idx, r] of msg.records.entries()) {
        await db.query(INSERT_RECORD, [
          ...[deviceId, r.ts, msg.seq, idx, r.lat, r.lon, r.altM, r.speedKmh, r.headingDeg, r.hdop],
          ...[r.satellites, r.batteryPct, r.temperatureC, r.lightLux, r.tamper, receivedAt],
        ]);
      }
      await db.query('COMMIT');
    } catch (e) {
      await db.query('ROLLBACK');
      throw e;
    }
    // Naive: one message, one ack of it alone.
    const ack = signAck(ackSigner, 'device', deviceId, { seq: msg.seq, sack: [] });
    client.publish(`${o.prefix}/devices/${deviceId}/ack`, ack, { qos: 1 });
  };

  // Strictly sequential: the next message waits for the previous one's commit.
  let chain: Promise<void> = Promise.resolve();
  client.on('message', (topic, payload) => {
    chain = chain.then(() =>
      handle(topic, payload).catch((e: Error) => {
        refused++;
        if (refused <= 5) process.stderr.write(`  [baseline] refused a message: ${e.message}\n`);
      }),
    );
  });
  await client.subscribeAsync(`${o.prefix}/devices/+/telemetry`, { qos: 1 });

  return {
    mqttUrl,
    ackKey: ackKey.publicKey.export({ format: 'jwk' }) as { kty: 'OKP'; crv: 'Ed25519'; x: string },
    counts: async () => {
      const res = await db.query(
        'SELECT (SELECT count(*) FROM baseline_messages) AS m, (SELECT count(*) FROM baseline_telemetry) AS t',
      );
      const row = res.rows[0] as { m: string | number; t: string | number };
      return { messages: Number(row.m), records: Number(row.t), refused };
    },
    stop: async () => {
      await client.endAsync().catch(() => {});
      await chain;
      await broker?.stop();
      // Its schema is the run's own (the bench names it with a run id): an external database keeps nothing of it.
      await db.query(`DROP SCHEMA IF EXISTS ${o.dbName} CASCADE`).catch(() => {});
      await db.end();
    },
  };
}
