// The reference tracker in Python (reference/python-tracker/, Debian's paho-mqtt and cryptography), written from
// docs/protocol.md, against a real chipwatch: it signs the signer vectors and judges the ack vectors as chipwatch
// does; end to end it splits a backlog by bytes, publishes, ignores forged acks (deleting nothing), resends a lost
// message, and every message is stored exactly once. Under CI=true a missing python3 module fails; elsewhere the
// suite is skipped and says why.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkVectorOutput } from '../../conformance/check-signer.ts';
import { fingerprintOf } from '../../src/keyfile.ts';
import { signAck } from '../../src/verify/ack.ts';
import { serviceOptions, startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const PYTHON = '/usr/bin/python3';
const TRACKER = join(import.meta.dirname, '../../reference/python-tracker/chipwatch_tracker.py');
const VECTORS = join(import.meta.dirname, '../../conformance/vectors');

function probePython(): { ok: true } | { ok: false; reason: string } {
  const r = spawnSync(PYTHON, ['-c', 'import paho.mqtt.client, cryptography'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${PYTHON} not found` };
  if (r.status !== 0) return { ok: false, reason: `${PYTHON}: ${r.stderr.trim().split('\n').pop()}` };
  return { ok: true };
}

const python = probePython();
if (!python.ok && process.env.CI === 'true') {
  describe('reference Python tracker', () => {
    it('has python3 with paho-mqtt and cryptography (CI: .ci/run installs python3-paho-mqtt python3-cryptography)', () => {
      throw new Error(python.reason);
    });
  });
} else if (!python.ok) {
  console.warn(
    `python-tracker tests skipped: ${python.reason} (apt-get install -y python3-paho-mqtt python3-cryptography)`,
  );
}

describe.skipIf(!python.ok)(
  `reference Python tracker${python.ok ? '' : ` (skipped: ${python.reason})`}`,
  () => {
    it('signs the signer vectors so that chipwatch accepts them (check-signer)', () => {
      const r = spawnSync(
        PYTHON,
        [TRACKER, 'sign-vectors', join(VECTORS, 'signer.json'), join(VECTORS, 'keys.json')],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(checkVectorOutput(JSON.parse(r.stdout))).toEqual([]);
    });

    it('accepts exactly the valid ack vectors and deletes exactly what they cover', () => {
      const r = spawnSync(PYTHON, [TRACKER, 'check-acks', join(VECTORS, 'acks.json')], { encoding: 'utf8' });
      expect(r.stdout).not.toContain('FAIL');
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    describe('against chipwatch', () => {
      let broker: TestBroker;
      let cw: TestChipwatch;
      let dir: string;
      const ackKey = generateKeyPairSync('ed25519');
      const ackFingerprint = fingerprintOf(ackKey.publicKey.export({ format: 'jwk' }).x as string);
      const clients: MqttClient[] = [];
      const children: ChildProcessWithoutNullStreams[] = [];

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'cw-pytracker-'));
        const ackKeyFile = join(dir, 'ack-key.pem');
        writeFileSync(ackKeyFile, ackKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), {
          mode: 0o600,
        });
        broker = await startAedes();
        cw = await startTestChipwatch({
          DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
          MQTT_URL: broker.url,
          DATA_DIR: dir,
          ACK_SIGNING_KEY_FILE: ackKeyFile,
        });
      });
      afterAll(async () => {
        for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
        for (const c of clients) await c.endAsync(true).catch(() => {});
        await cw?.stop();
        await broker?.stop();
      });

      it('publishes a split backlog, ignores three forged acks, resends a lost message: every message stored once', async () => {
        const id = 'trk-python-1';
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        const jwk = privateKey.export({ format: 'jwk' });
        const reg = await cw.api('POST', '/v1/devices', {
          body: {
            id,
            publicKeyJwk: {
              kty: 'OKP',
              crv: 'Ed25519',
              x: publicKey.export({ format: 'jwk' }).x,
              kid: 'py-k1',
            },
          },
        });
        expect(reg.status, JSON.stringify(reg.body)).toBe(201);

        // 700 fixes with every field, one a second, ending a minute ago: more than one message can hold.
        const start = Date.now() - 60_000 - 700_000;
        const fixes = Array.from({ length: 700 }, (_, i) => ({
          ts: start + i * 1000,
          lat: 22.61 + i * 1e-4,
          lon: 120.27 + i * 1e-4,
          altM: 12,
          speedKmh: 31.2,
          headingDeg: 270,
          hdop: 0.9,
          satellites: 11,
          batteryPct: 88,
          temperatureC: 21.5,
          lightLux: 0,
          tamper: false,
        }));
        writeFileSync(join(dir, 'fixes.json'), JSON.stringify(fixes));
        const port = Number(new URL(broker.url).port);
        const config = {
          deviceId: id,
          mqttPassword: reg.body.mqttPassword,
          kid: 'py-k1',
          alg: 'EdDSA',
          privateKey: { d: jwk.d },
          ackKey: { x: reg.body.ackKey.publicJwk.x },
          mqttHost: '127.0.0.1',
          mqttPort: port,
          tls: null,
          stateFile: join(dir, 'tracker-state.json'),
          fixesFile: join(dir, 'fixes.json'),
          resendAfterS: 1,
          maxResendAfterS: 4,
          deadlineS: 90,
          waitForGo: true,
          simulateLossOf: [2],
        };
        writeFileSync(join(dir, 'tracker.json'), JSON.stringify(config));

        const child = spawn(PYTHON, [TRACKER, 'run', join(dir, 'tracker.json')]);
        children.push(child);
        const events: any[] = [];
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        let partial = '';
        child.stdout.on('data', (d) => {
          partial += d;
          const lines = partial.split('\n');
          partial = lines.pop()!;
          for (const l of lines) events.push(JSON.parse(l));
        });
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        const until = async (pred: () => boolean, what: string) => {
          for (let i = 0; i < 600 && !pred(); i++) {
            if (child.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          expect(pred(), `${what}; events ${JSON.stringify(events.slice(-5))}; stderr ${stderr}`).toBe(true);
        };

        await until(() => events.some((e) => e.event === 'ready'), 'the tracker connected and subscribed');
        const signed = events.filter((e) => e.event === 'signed');
        expect(signed.length).toBeGreaterThan(1);
        expect(signed.every((e) => e.bytes <= 65_536 && e.records > 1 && e.records <= 500)).toBe(true);
        expect(signed.reduce((n, e) => n + e.records, 0)).toBe(700);
        const pending = events.find((e) => e.event === 'ready').pending;
        expect(pending).toBe(signed.length);

        // Forged acks claiming everything, as chipwatch's service user (the only one the broker lets publish acks).
        const service = await mqtt.connectAsync(broker.url, {
          ...serviceOptions(broker),
          clientId: `forger-${Date.now()}`,
          protocolVersion: 4,
          reconnectPeriod: 0,
        });
        clients.push(service);
        const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const everything = { v: 1, deviceId: id, seq: 1_000_000, sack: [], ts: Date.now() };
        const forged = [
          `${b64({ alg: 'none', typ: 'chipwatch-ack+jws' })}.${b64(everything)}.`,
          signAck(
            { privateKey: generateKeyPairSync('ed25519').privateKey, fingerprint: ackFingerprint },
            'device',
            id,
            {
              seq: 1_000_000,
              sack: [],
            },
          ),
          signAck(
            { privateKey: ackKey.privateKey, fingerprint: ackFingerprint },
            'device',
            'trk-someone-else',
            {
              seq: 1_000_000,
              sack: [],
            },
          ),
        ];
        for (const f of forged) await service.publishAsync(`chipwatch/v1/devices/${id}/ack`, f, { qos: 1 });
        await until(
          () => events.filter((e) => e.event === 'ack_ignored').length === 3,
          'three forged acks ignored',
        );
        expect(events.filter((e) => e.event === 'ack_ignored').map((e) => e.pending)).toEqual([
          pending,
          pending,
          pending,
        ]);
        expect(events.some((e) => e.event === 'ack')).toBe(false);

        child.stdin.write('go\n');
        const code = await exited;
        expect(code, `${JSON.stringify(events.slice(-5))} ${stderr}`).toBe(0);
        expect(events.at(-1)?.event).toBe('done');

        // Seq 2 was "lost" on its first send: acks went past it in sack, and its resend closed the gap.
        expect(events.find((e) => e.event === 'lost')?.seq).toBe(2);
        const acks = events.filter((e) => e.event === 'ack');
        expect(acks.some((a) => a.seq < 2 && a.sack.length > 0)).toBe(true);
        expect(events.filter((e) => e.event === 'published' && e.seq === 2).map((e) => e.attempt)).toContain(
          2,
        );
        const deleted = acks.flatMap((a) => a.deleted).sort((a, b) => a - b);
        expect(deleted).toEqual(signed.map((e) => e.seq));

        // Every message stored exactly once, every fix once.
        const stored = await cw.sql<{ seq: string; n: string }>(
          'SELECT seq, count(*) AS n FROM messages WHERE device_id = $1 GROUP BY seq ORDER BY seq',
          [id],
        );
        expect(stored.map((r) => [Number(r.seq), Number(r.n)])).toEqual(signed.map((e) => [e.seq, 1]));
        const fixRows = await cw.sql<{ n: string; distinct_ts: string }>(
          'SELECT count(*) AS n, count(DISTINCT ts) AS distinct_ts FROM telemetry WHERE device_id = $1',
          [id],
        );
        expect(fixRows.map((r) => [Number(r.n), Number(r.distinct_ts)])).toEqual([[700, 700]]);
        expect(
          (await cw.api('GET', `/v1/rejections?deviceId=${id}`, { role: 'compliance' })).body.items,
        ).toEqual([]);
      });
    });
  },
);
