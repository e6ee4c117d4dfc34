// `npm run sim -- --load`: registers N trackers, pre-signs their messages, then publishes at a fixed rate (or as fast
// as acks return) over several connections and reports the achieved rate, ack latency percentiles and what stayed
// unacked. With --load-file it publishes a pre-signed JSON-lines file instead (the benchmark's way in).
import { readFileSync } from 'node:fs';
import { fetchAckKey, registerDevices, resolveToken } from './api.ts';
import { type DevicePublicJwk, generateDeviceKey } from './keys.ts';
import {
  type LoadDevice,
  type LoadResult,
  presign,
  publishSigned,
  renderLoad,
  type SignedLine,
} from './load.ts';
import type { Opts } from './options.ts';
import type { AckPublicJwk } from './tracker.ts';

const REGISTER_CONCURRENCY = 2;
/** Devices per POST /v1/devices/batch (its maximum). */
const REGISTER_BATCH = 1000;

export function readLines(file: string): SignedLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as SignedLine);
}

/** Registers the fleet 1,000 devices per request (POST /v1/devices/batch), a few requests at a time. */
async function registerAll(
  o: Opts,
  token: string,
  devices: LoadDevice[],
  say: (l: string) => void,
): Promise<Map<string, string>> {
  const credentials = new Map<string, string>();
  const chunks: LoadDevice[][] = [];
  for (let i = 0; i < devices.length; i += REGISTER_BATCH) chunks.push(devices.slice(i, i + REGISTER_BATCH));
  let next = 0;
  let done = 0;
  const progress = setInterval(() => say(`registered ${done}/${devices.length} devices`), 1000);
  try {
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]! as (LoadDevice & { jwk: DevicePublicJwk })[];
        const got = await registerDevices(
          o.api,
          token,
          chunk.map((d) => ({ id: d.id, publicJwk: d.jwk })),
        );
        for (const [id, pw] of got) credentials.set(id, pw);
        done += chunk.length;
      }
    };
    await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, chunks.length) }, worker));
  } finally {
    clearInterval(progress);
  }
  return credentials;
}

export async function runLoadCommand(o: Opts): Promise<number> {
  const say = (line: string) => process.stderr.write(`  [load] ${line}\n`);
  let lines: SignedLine[];
  let credentials: Map<string, string> | undefined;
  if (o.loadFile) {
    lines = readLines(o.loadFile);
    // Devices registered elsewhere (the benchmark): their MQTT passwords come as a JSON object id → password.
    if (o.credentialsFile) {
      credentials = new Map(
        Object.entries(JSON.parse(readFileSync(o.credentialsFile, 'utf8')) as Record<string, string>),
      );
    }
  } else {
    const count = o.devices ?? 100;
    const messages = o.messages ?? Math.max(1, Math.round((o.rate ?? 1000) * o.duration));
    const token = await resolveToken({ ...(o.token ? { token: o.token } : {}), dataDir: o.dataDir });
    const devices = Array.from({ length: count }, (_, i) => {
      const key = generateDeviceKey(o.alg);
      return { id: `${o.idPrefix}-${String(i + 1).padStart(5, '0')}`, key, jwk: key.publicJwk };
    });
    say(`registering ${count} devices through ${o.api}`);
    credentials = await registerAll(o, token, devices, say);
    say(`signing ${messages} messages of ${o.records} record(s) before the clock starts`);
    lines = presign(devices, messages, o.records);
  }
  // Acks are verified against the pinned key, as a tracker does: from a file, else chipwatch's public route.
  const ackKey = o.ackKeyFile
    ? (JSON.parse(readFileSync(o.ackKeyFile, 'utf8')) as AckPublicJwk)
    : await fetchAckKey(o.api);
  const result: LoadResult = await publishSigned(lines, {
    ackKey,
    ...(credentials ? { credentials } : {}),
    mqttUrl: o.mqtt,
    topicPrefix: o.prefix,
    connections: o.connections,
    window: o.window,
    ...(o.rate === undefined ? {} : { ratePerS: o.rate }),
    say,
    // A parent (the benchmark) measures CPU over exactly the publishing interval.
    onPhase: (phase) => process.send?.(phase),
  });
  process.stdout.write(o.json ? `${JSON.stringify(result)}\n` : `${renderLoad(result)}\n`);
  if (result.unacked > 0) {
    say(`${result.unacked} message(s) never acked: check chipwatch's log and GET /v1/rejections`);
    return 1;
  }
  return 0;
}
