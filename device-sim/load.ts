// Load mode: pre-signed telemetry published at QoS 1 over several connections, at a fixed rate or as fast as acks
// return (at most `window` unacked), measuring each message from publish to the first ack of its device covering its
// seq. Signing happens before the clock starts, so the figures measure chipwatch, not the simulator. `npm run bench`
// drives its end-to-end figures through this same code (bench/run-publisher.ts runs the CLI's --load mode).

import mqtt, { type MqttClient } from 'mqtt';
import { type AckPayload, ackCovers, verifyAck } from '../src/verify/ack.ts';
import type { DeviceKey } from './keys.ts';
import { buildTelemetry, signCompactJws, type TelemetryRecord } from './signer.ts';
import { percentile } from './stats.ts';
import type { AckPublicJwk } from './tracker.ts';

/** One pre-signed message: device, seq, record count, compact JWS (also the bench's JSON-lines file format). */
export interface SignedLine {
  d: string;
  s: number;
  n: number;
  j: string;
}

export interface LoadResult {
  messages: number;
  records: number;
  acked: number;
  unacked: number;
  recordsAcked: number;
  /** First publish → last ack. */
  durationS: number;
  /** Acked messages per second over durationS: the achieved rate. */
  msgPerS: number;
  recordsPerS: number;
  /** Messages published per second, first to last publish. */
  publishedPerS: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  /** CPU this process used from the first publish to the last ack, seconds. */
  cpuS: number;
  /** Acks ignored because they did not verify against the pinned ack key. */
  unverifiedAcks: number;
}

export interface LoadOptions {
  mqttUrl: string;
  topicPrefix?: string;
  connections: number;
  /** Most unacked messages in flight. */
  window: number;
  /** Messages per second in total; unset: as fast as the window allows. */
  ratePerS?: number;
  /** Give up on what is unacked after this long without any ack. */
  stallMs?: number;
  say?: (line: string) => void;
  /** At the first publish ('start') and the last ack ('done'): lets a parent measure CPU over the same interval. */
  onPhase?: (phase: 'start' | 'done') => void;
  /**
   * The pinned ack key (GET /v1/ingest/key): acks that do not verify against it are ignored, as a tracker would.
   * UNSIGNED_ACKS_FOR_BENCHMARK only in the bench's open-edge scenario (bench/open-edge-publisher.ts).
   */
  ackKey: AckPublicJwk | typeof UNSIGNED_ACKS_FOR_BENCHMARK;
  /**
   * Each device's MQTT password (from its registration): every device then has its own connection, as a real
   * tracker does (user name and client id = its id). Without it, `connections` shared anonymous connections.
   */
  credentials?: ReadonlyMap<string, string>;
  /**
   * Bench only, without credentials: one anonymous connection per device (client id = its id), the fleet's shape
   * without authentication, so the bench can tell what authentication and signed acks cost from what connections do.
   */
  anonymousPerDevice?: boolean;
}

/**
 * Bench only (bench/open-edge-publisher.ts; no CLI option reaches it): take the plain JSON acks of a chipwatch started
 * with `benchmarkOnly.openEdge` without any check, as trackers did before acks were signed. A symbol, so no file or
 * argument can select it.
 */
export const UNSIGNED_ACKS_FOR_BENCHMARK = Symbol('unsigned acks accepted (benchmark only)');

/** An unsigned ack's payload for `deviceId` (bench only), or undefined. */
function plainAck(payload: Buffer, deviceId: string): AckPayload | undefined {
  try {
    const a = JSON.parse(payload.toString('utf8')) as AckPayload;
    if (a.deviceId !== deviceId || !Number.isSafeInteger(a.seq) || !Array.isArray(a.sack)) return undefined;
    return a;
  } catch {
    return undefined;
  }
}

/** Topics per SUBSCRIBE packet: 10,000 devices in one packet would be ~600 KB. */
const SUBSCRIBE_CHUNK = 1000;

export interface LoadDevice {
  id: string;
  key: Pick<DeviceKey, 'alg' | 'kid' | 'privateKey'>;
}

/**
 * Signs `messages` messages of `recordsPerMessage` fixes round-robin over the devices (seq 1, 2, … per device).
 * Each device creeps along from its own start point, one fix a second, the newest fix at `nowMs`.
 */
export function presign(
  devices: readonly LoadDevice[],
  messages: number,
  recordsPerMessage: number,
  nowMs: number = Date.now(),
): SignedLine[] {
  const perDevice = Math.ceil(messages / devices.length) * recordsPerMessage;
  const startMs = nowMs - perDevice * 1000;
  const lines: SignedLine[] = [];
  for (let k = 0; k < messages; k++) {
    const index = k % devices.length;
    const device = devices[index]!;
    const seq = Math.floor(k / devices.length) + 1;
    // Spread over the Philippine Sea, away from every restricted zone: load measures ingest, not alerting.
    const lat0 = 15 + (index % 100) * 0.05;
    const lon0 = 125 + Math.floor(index / 100) * 0.05;
    const records: TelemetryRecord[] = Array.from({ length: recordsPerMessage }, (_, i) => {
      const step = (seq - 1) * recordsPerMessage + i;
      return {
        ts: startMs + step * 1000,
        lat: Math.round((lat0 + step * 1e-5) * 1e6) / 1e6,
        lon: Math.round((lon0 + step * 1e-5) * 1e6) / 1e6,
        speedKmh: 35,
        headingDeg: 45,
        hdop: 0.9,
        satellites: 10,
        batteryPct: 90,
        temperatureC: 24,
      };
    });
    const jws = signCompactJws(buildTelemetry(device.id, seq, records, nowMs), device.key);
    lines.push({ d: device.id, s: seq, n: recordsPerMessage, j: jws });
  }
  return lines;
}

export async function publishSigned(lines: readonly SignedLine[], o: LoadOptions): Promise<LoadResult> {
  const prefix = o.topicPrefix ?? 'chipwatch/v1';
  const say = o.say ?? (() => {});
  const stallMs = o.stallMs ?? 20_000;
  const total = lines.length;
  const deviceIds = [...new Set(lines.map((l) => l.d))];
  // A device always publishes on one connection, so its messages reach the broker in seq order: its own when it
  // has credentials (the broker admits a tracker only under its own id), else one of a few shared ones.
  const perDevice = o.credentials !== undefined || o.anonymousPerDevice === true;
  const connectionOf = new Map(deviceIds.map((d, i) => [d, perDevice ? i : i % o.connections]));
  const outstanding = new Map<string, number[]>(deviceIds.map((d) => [d, []]));
  const head = new Map<string, number>(deviceIds.map((d) => [d, 0]));
  const publishedAt = new Float64Array(total);
  // When each message should have gone out: at a fixed rate, its slot in the schedule. Latency counts from there,
  // so time spent waiting for a full window counts too (no coordinated omission: an overloaded chipwatch cannot
  // look fast by slowing the publisher down). As fast as acks return, it is the publish time.
  const intendedAt = new Float64Array(total);
  const ackedAt = new Float64Array(total);
  const ackTopicLength = '/ack'.length;
  const topicStart = `${prefix}/devices/`.length;

  let next = 0;
  let inFlight = 0;
  let acked = 0;
  let recordsAcked = 0;
  let lastAckAt = 0;
  let lastPublishAt = 0;
  let lastProgressAt = performance.now();
  let firstPublishAt = 0;
  let finish: () => void = () => {};

  const auth = (i: number) => {
    if (!perDevice) return { clientId: `sim-load-${process.pid}-${i}` };
    const id = deviceIds[i]!;
    if (o.credentials === undefined) return { clientId: id };
    const password = o.credentials!.get(id);
    if (password === undefined) throw new Error(`no MQTT password for ${id}: register it first`);
    return { clientId: id, username: id, password };
  };
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: perDevice ? deviceIds.length : o.connections }, (_, i) =>
      mqtt.connectAsync(o.mqttUrl, {
        protocolVersion: 4,
        clean: true,
        ...auth(i),
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      }),
    ),
  );

  const pump = () => {
    const now = performance.now();
    const due =
      o.ratePerS === undefined ? total : Math.floor(((now - firstPublishAt) / 1000) * o.ratePerS) + 1;
    const limit = Math.min(total, due);
    while (inFlight < o.window && next < limit) {
      const line = lines[next]!;
      publishedAt[next] = performance.now();
      intendedAt[next] =
        o.ratePerS === undefined
          ? publishedAt[next]!
          : Math.min(publishedAt[next]!, firstPublishAt + (next * 1000) / o.ratePerS);
      clients[connectionOf.get(line.d)!]!.publish(`${prefix}/devices/${line.d}/telemetry`, line.j, {
        qos: 1,
      });
      outstanding.get(line.d)!.push(next);
      inFlight++;
      next++;
    }
    if (next > 0) lastPublishAt = publishedAt[next - 1]!;
  };

  const done = new Uint8Array(total);
  let unverifiedAcks = 0;
  const onAck = (topic: string, payload: Buffer) => {
    const deviceId = topic.slice(topicStart, -ackTopicLength);
    const queue = outstanding.get(deviceId);
    if (!queue) return;
    const ack =
      o.ackKey === UNSIGNED_ACKS_FOR_BENCHMARK
        ? plainAck(payload, deviceId)
        : verifyAck(payload, o.ackKey, 'device', deviceId);
    if (!ack) {
      unverifiedAcks++;
      return;
    }
    const now = performance.now();
    let h = head.get(deviceId)!;
    // Everything up to `seq` and each seq in `sack`: scan what is outstanding (in seq order) past the head.
    for (let q = h; q < queue.length; q++) {
      const idx = queue[q]!;
      const s = lines[idx]!.s;
      if (s > ack.seq && (ack.sack.length === 0 || s > ack.sack[ack.sack.length - 1]!)) break;
      if (done[idx] || !ackCovers(ack, s)) continue;
      done[idx] = 1;
      ackedAt[idx] = now;
      acked++;
      recordsAcked += lines[idx]!.n;
      inFlight--;
    }
    while (h < queue.length && done[queue[h]!]) h++;
    head.set(deviceId, h);
    lastAckAt = now;
    lastProgressAt = now;
    if (acked === total) finish();
    else pump();
  };

  try {
    for (const [i, client] of clients.entries()) {
      client.on('message', onAck);
      client.on('error', (err) => say(`connection ${i}: ${err.message}`));
      const mine = deviceIds
        .filter((d) => connectionOf.get(d) === i)
        .map((d) => `${prefix}/devices/${d}/ack`);
      for (let k = 0; k < mine.length; k += SUBSCRIBE_CHUNK) {
        await client.subscribeAsync(mine.slice(k, k + SUBSCRIBE_CHUNK), { qos: 1 });
      }
    }

    o.onPhase?.('start');
    const cpuStart = process.cpuUsage();
    const rateText = o.ratePerS === undefined ? 'as fast as acks return' : `${o.ratePerS} msg/s`;
    say(
      `${total} messages, ${deviceIds.length} devices, ${o.connections} connections, window ${o.window}, ${rateText}`,
    );
    firstPublishAt = performance.now();
    lastProgressAt = firstPublishAt;
    pump();
    await new Promise<void>((resolve) => {
      const ticker = o.ratePerS === undefined ? undefined : setInterval(pump, 5);
      const progress = setInterval(() => {
        const now = performance.now();
        const rate = acked / ((now - firstPublishAt) / 1000);
        say(
          `published ${next}/${total}, acked ${acked}, in flight ${inFlight} (${Math.round(rate)} acked/s so far)`,
        );
        if (now - lastProgressAt > stallMs) {
          say(`no ack for ${stallMs / 1000} s; giving up on ${total - acked} unacked messages`);
          finish();
        }
      }, 1000);
      finish = () => {
        clearInterval(progress);
        if (ticker) clearInterval(ticker);
        resolve();
      };
      if (total === 0) finish();
    });
    const cpu = process.cpuUsage(cpuStart);
    o.onPhase?.('done');

    const latencies: number[] = [];
    for (let i = 0; i < total; i++) if (ackedAt[i]! > 0) latencies.push(ackedAt[i]! - intendedAt[i]!);
    const durationS = Math.max(1e-9, ((lastAckAt || performance.now()) - firstPublishAt) / 1000);
    const publishS = Math.max(1e-9, (lastPublishAt - firstPublishAt) / 1000);
    const round = (x: number | undefined) => Math.round((x ?? Number.NaN) * 10) / 10;
    return {
      messages: total,
      records: lines.reduce((s, l) => s + l.n, 0),
      acked,
      unacked: total - acked,
      recordsAcked,
      durationS,
      msgPerS: acked / durationS,
      recordsPerS: recordsAcked / durationS,
      publishedPerS: next <= 1 ? next : next / publishS,
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        p999: round(percentile(latencies, 99.9)),
        max: round(percentile(latencies, 100)),
      },
      cpuS: (cpu.user + cpu.system) / 1e6,
      unverifiedAcks,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  }
}

/** The load result as one human line. */
export function renderLoad(r: LoadResult): string {
  return (
    `published ${r.messages} (${Math.round(r.publishedPerS)} msg/s)  acked ${r.acked} in ${r.durationS.toFixed(1)} s = ` +
    `${Math.round(r.msgPerS)} msg/s (${Math.round(r.recordsPerS)} records/s)  ack latency p50 ${r.latencyMs.p50} ms  ` +
    `p99 ${r.latencyMs.p99} ms  p99.9 ${r.latencyMs.p999} ms  max ${r.latencyMs.max} ms  unacked ${r.unacked}`
  );
}
