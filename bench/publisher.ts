// The load, in its own process: publishes pre-signed messages (JSON lines) at QoS 1 over several mqtt.js
// connections, as fast as the consumer acknowledges them, with at most `window` unacked messages in flight. Each
// message's latency is publish → the first application ack of its device with a seq at or above it. Progress goes
// to stderr; one JSON result line goes to stdout; 'start' and 'done' go to the parent over IPC (when there is a
// channel) at the first publish and the last ack, so it can measure CPU over exactly that interval.
// Usage: node --import tsx bench/publisher.ts --file F --url mqtt://… [--connections 4] [--window 2000]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { percentile } from '../device-sim/stats.ts';
import type { SignedLine } from './messages.ts';

export interface PublisherResult {
  messages: number;
  records: number;
  acked: number;
  unacked: number;
  recordsAcked: number;
  /** First publish → last ack. */
  durationS: number;
  msgPerS: number;
  recordsPerS: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  cpuS: number;
}

const { values: args } = parseArgs({
  options: {
    file: { type: 'string' },
    url: { type: 'string' },
    prefix: { type: 'string', default: 'chipwatch/v1' },
    connections: { type: 'string', default: '4' },
    window: { type: 'string', default: '2000' },
    'stall-s': { type: 'string', default: '20' },
    label: { type: 'string', default: 'publisher' },
  },
});
if (!args.file || !args.url) throw new Error('--file and --url are required');
const connections = Number(args.connections);
const window = Number(args.window);
const stallMs = Number(args['stall-s']) * 1000;
const say = (text: string) => process.stderr.write(`  [${args.label}] ${text}\n`);

const lines = readFileSync(args.file, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l) as SignedLine);
const total = lines.length;
const deviceIds = [...new Set(lines.map((l) => l.d))];
// A device always publishes on one connection, so its messages reach the broker in seq order.
const connectionOf = new Map(deviceIds.map((d, i) => [d, i % connections]));
const outstanding = new Map<string, number[]>(deviceIds.map((d) => [d, []]));
const head = new Map<string, number>(deviceIds.map((d) => [d, 0]));
const publishedAt = new Float64Array(total);
const ackedAt = new Float64Array(total);

let next = 0;
let inFlight = 0;
let acked = 0;
let recordsAcked = 0;
let lastAckAt = 0;
let lastProgressAt = performance.now();
let allAcked: () => void = () => {};

const clients: MqttClient[] = await Promise.all(
  Array.from({ length: connections }, (_, i) =>
    mqtt.connectAsync(args.url!, {
      protocolVersion: 4,
      clean: true,
      clientId: `bench-pub-${process.pid}-${i}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    }),
  ),
);

function onAck(topic: string, payload: Buffer): void {
  const deviceId = topic.slice(args.prefix!.length + '/devices/'.length, -'/ack'.length);
  const queue = outstanding.get(deviceId);
  if (!queue) return;
  const seq = (JSON.parse(payload.toString('utf8')) as { seq: number }).seq;
  const now = performance.now();
  let h = head.get(deviceId)!;
  while (h < queue.length && lines[queue[h]!]!.s <= seq) {
    const idx = queue[h++]!;
    ackedAt[idx] = now;
    acked++;
    recordsAcked += lines[idx]!.n;
    inFlight--;
  }
  head.set(deviceId, h);
  lastAckAt = now;
  lastProgressAt = now;
  if (acked === total) allAcked();
  else pump();
}

function pump(): void {
  while (inFlight < window && next < total) {
    const line = lines[next]!;
    publishedAt[next] = performance.now();
    clients[connectionOf.get(line.d)!]!.publish(`${args.prefix}/devices/${line.d}/telemetry`, line.j, {
      qos: 1,
    });
    outstanding.get(line.d)!.push(next);
    inFlight++;
    next++;
  }
}

for (const [i, client] of clients.entries()) {
  client.on('message', onAck);
  client.on('error', (err) => say(`connection ${i}: ${err.message}`));
  const mine = deviceIds.filter((d) => connectionOf.get(d) === i);
  if (mine.length > 0)
    await client.subscribeAsync(
      mine.map((d) => `${args.prefix}/devices/${d}/ack`),
      { qos: 1 },
    );
}

process.send?.('start');
const cpuStart = process.cpuUsage();
say(`${total} messages, ${deviceIds.length} devices, ${connections} connections, window ${window}`);
const firstPublishAt = performance.now();
lastProgressAt = firstPublishAt;
pump();

await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const now = performance.now();
    const rate = acked / ((now - firstPublishAt) / 1000);
    say(`published ${next}/${total}, acked ${acked} (${Math.round(rate)} msg/s so far)`);
    if (now - lastProgressAt > stallMs) {
      say(`no ack for ${stallMs / 1000} s; giving up on ${total - acked} unacked messages`);
      allAcked();
    }
  }, 1000);
  allAcked = () => {
    clearInterval(timer);
    resolve();
  };
});

const cpu = process.cpuUsage(cpuStart);
process.send?.('done');
const latencies: number[] = [];
for (let i = 0; i < total; i++) if (ackedAt[i]! > 0) latencies.push(ackedAt[i]! - publishedAt[i]!);
const durationS = ((lastAckAt || performance.now()) - firstPublishAt) / 1000;
const round = (x: number | undefined) => Math.round((x ?? Number.NaN) * 10) / 10;
const result: PublisherResult = {
  messages: total,
  records: lines.reduce((s, l) => s + l.n, 0),
  acked,
  unacked: total - acked,
  recordsAcked,
  durationS,
  msgPerS: acked / durationS,
  recordsPerS: recordsAcked / durationS,
  latencyMs: {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    p999: round(percentile(latencies, 99.9)),
    max: round(percentile(latencies, 100)),
  },
  cpuS: (cpu.user + cpu.system) / 1e6,
};
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.disconnect?.();
