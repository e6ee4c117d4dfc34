// Backpressure, light (docs: /work/notes/tests-readme.md's table): while chipwatch cannot commit, a flood beyond
// INGEST_QUEUE_MAX must stay unread in the socket from the broker (MqttSession.pause()), not pile up in chipwatch's
// queue; once commits go through again, every message is stored once and acked. The commit is held by a test
// transaction holding the device's state row. What chipwatch has not read is what the kernel holds for its socket
// (/proc/net/tcp's rx_queue, Linux): a few hundred small messages fit in the loopback buffers, so the broker itself
// never stalls here, and the unread bytes are the evidence. Every wait is on a condition, never a sleep.
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import mqtt from 'mqtt';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildTelemetry, signCompactJws } from '../../device-sim/signer.ts';
import { verifyAck } from '../../src/verify/ack.ts';
import { startOpenAedes } from '../helpers/broker.ts';
import { type RegisteredSender, registerDevice, until } from '../helpers/chipwatch.ts';
import { useChipwatch } from '../helpers/stack.ts';

const QUEUE_MAX = 50;
const BATCH_MAX = 10;
const N = 600;

const telemetry = (d: RegisteredSender, seq: number) =>
  signCompactJws(buildTelemetry(d.id, seq, [{ ts: Date.now() - 60_000, lat: 10, lon: 20 }]), d.key);

/** The kernel's [send queue, receive queue] in bytes of the loopback TCP socket from port `local` to `remote` (Linux). */
function kernelQueues(local: number, remote: number): [number, number] {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const line = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(local)}`) && f[2]?.endsWith(`:${hex(remote)}`));
  if (!line) throw new Error(`no TCP socket ${local} → ${remote} in /proc/net/tcp`);
  const [tx, rx] = line[4]!.split(':').map((h) => Number.parseInt(h, 16));
  return [tx!, rx!];
}

async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'));
  if (!m) throw new Error(`${name} not on /metrics`);
  return Number(m[1]);
}

describe('backpressure against a real aedes', () => {
  const env = useChipwatch(
    { INGEST_QUEUE_MAX: String(QUEUE_MAX), INGEST_BATCH_MAX: String(BATCH_MAX) },
    startOpenAedes,
  );

  it.skipIf(process.platform !== 'linux')(
    'leaves a flood beyond INGEST_QUEUE_MAX unread in the socket while it cannot commit, then stores and acks every message once',
    { timeout: 120_000 },
    async () => {
      const { cw, broker, databaseUrl } = env;
      const d = await registerDevice(cw);
      const topic = `chipwatch/v1/devices/${d.id}/telemetry`;
      const tracker = await mqtt.connectAsync(broker.url, {
        clientId: d.id,
        clean: true,
        reconnectPeriod: 0,
      });
      let highestAcked = 0;
      tracker.on('message', (_t, payload) => {
        const ack = verifyAck(payload, cw.ackKey, 'device', d.id);
        if (ack && ack.seq > highestAcked) highestAcked = ack.seq;
      });
      await tracker.subscribeAsync(`chipwatch/v1/devices/${d.id}/ack`, { qos: 1 });
      const client = new pg.Client(databaseUrl);
      let held = false;
      try {
        await tracker.publishAsync(topic, telemetry(d, 1), { qos: 1 });
        await until('seq 1 acked', async () => highestAcked === 1);
        const payloads = Array.from({ length: N }, (_, i) => telemetry(d, i + 2));
        const size = payloads[0]!.length;

        // Hold the device's state row: every batch of this device waits at its FOR UPDATE.
        await client.connect();
        await client.query('BEGIN');
        held = true;
        const row = await client.query('SELECT 1 FROM device_state WHERE device_id = $1 FOR UPDATE', [d.id]);
        expect(row.rowCount).toBe(1);

        // The broker takes the whole flood (its PUBACKs to the tracker) and hands it all to the socket to chipwatch.
        await Promise.all(payloads.map((p) => tracker.publishAsync(topic, p, { qos: 1 })));
        const conn = (broker.aedes as unknown as { clients: Record<string, { conn: net.Socket }> }).clients[
          cw.config.MQTT_CLIENT_ID
        ]!.conn;
        await until('the broker wrote the flood to the kernel', async () => conn.writableLength === 0);
        await until(
          'chipwatch paused',
          async () => (await metric(cw.httpUrl, 'chipwatch_ingest_paused')) === 1,
        );
        // chipwatch's event loop has had its turns (the /metrics round trips): a socket still read would be empty.
        // Bytes between the broker and chipwatch's reads: still in the broker's send queue, or in chipwatch's receive queue.
        const unread =
          kernelQueues(conn.localPort!, conn.remotePort!)[0] +
          kernelQueues(conn.remotePort!, conn.localPort!)[1];
        // chipwatch took at most its queue, the two batches waiting to commit, the rest of one socket read (64 KiB)
        // and what its paused stream buffers (16 KiB high-water mark), rounded up to two reads.
        const takenAtMost = QUEUE_MAX + 2 * BATCH_MAX + Math.ceil((2 * 65_536) / size);
        expect(unread, `unread bytes of ${N} × ${size}`).toBeGreaterThanOrEqual((N - takenAtMost) * size);
        expect(await metric(cw.httpUrl, 'chipwatch_ingest_paused')).toBe(1);
        const storedWhileHeld = await cw.sql('SELECT count(*)::int AS n FROM messages WHERE device_id = $1', [
          d.id,
        ]);
        expect(storedWhileHeld[0].n).toBe(1);

        await client.query('COMMIT');
        held = false;
        await until(`all ${N + 1} acked`, async () => highestAcked === N + 1, 90_000, 100);
        const [counts] = await cw.sql(
          'SELECT count(*)::int AS m, count(DISTINCT seq)::int AS d, max(seq)::int AS hi FROM messages WHERE device_id = $1',
          [d.id],
        );
        expect(counts).toEqual({ m: N + 1, d: N + 1, hi: N + 1 });
        await until(
          'reading resumed',
          async () => (await metric(cw.httpUrl, 'chipwatch_ingest_paused')) === 0,
        );
      } finally {
        if (held) await client.query('ROLLBACK').catch(() => {});
        await client.end().catch(() => {});
        await tracker.endAsync();
      }
    },
  );
});
