// `npm run sim`: three modes. `--scenario NAME|mixed` plays named scenarios on a simulated clock and judges the alerts
// chipwatch raises; `--load` publishes pre-signed messages and measures rate and ack latency; without either it
// registers trackers, publishes signed telemetry along a line at a rate, and reports what was acked.

import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveToken } from './api.ts';
import { type SimDevice, startFleet, stopFleet } from './fleet.ts';
import type { DeviceAlg } from './keys.ts';
import { runLoadCommand } from './load-cli.ts';
import type { LatLon } from './route.ts';
import { runScenarioCommand } from './scenario-cli.ts';
import { fleetLatenciesMs, fleetTotals, percentile } from './stats.ts';

const DRAIN_TIMEOUT_MS = 30_000;
/** Publishing tick: timers are not precise below this, and each tick catches up on every message due. */
const TICK_MS = 10;
/** Most messages one tick may catch up on, so a slow loop never blocks acks for long. */
const MAX_BURST = 1000;

function positiveNumber(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a number above 0`);
    return n;
  };
}

function intIn(what: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function latLon(v: string): LatLon {
  const parts = v.split(',').map((s) => s.trim());
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  // Number('') is 0: an empty part must not silently mean the equator or the prime meridian.
  if (parts.length !== 2 || parts.includes('') || !Number.isFinite(lat) || !Number.isFinite(lon)) {
    throw new InvalidArgumentError('expected "lat,lon" in degrees, e.g. 22.61,120.27');
  }
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) {
    throw new InvalidArgumentError('latitude must lie in [-90, 90] and longitude in [-180, 180]');
  }
  return { lat, lon };
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('speed must be a number of km/h, 0 or more');
  return n;
}

const program = new Command('device-sim')
  .description(
    'Simulated trackers: sign telemetry, publish it over MQTT, wait for chipwatch to ack every message.',
  )
  .option('--api <url>', 'chipwatch HTTP API', 'http://127.0.0.1:8080')
  .option('--mqtt <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--token <jwt>', 'admin API token (default: CHIPWATCH_TOKEN, else minted from DATA_DIR)')
  .option(
    '--data-dir <dir>',
    'chipwatch data folder holding the generated JWT secret',
    process.env.DATA_DIR ?? './data',
  )
  .option(
    '--scenario <name>',
    'play a named scenario (device-sim/scenarios/NAME.json), or mixed: all of them',
  )
  .option('--speedup <x>', 'simulated seconds per real second (scenarios)', positiveNumber('--speedup'), 3600)
  .option('--seed <n>', 'seed of the GPS noise and RTT jitter (scenarios)', intIn('--seed', 0, 2 ** 31), 1)
  .option(
    '--settle <s>',
    'seconds to wait for timer-driven alerts after the last ack',
    positiveNumber('--settle'),
    20,
  )
  .option('--json', 'print the result as JSON on stdout (scenarios, load)')
  .option(
    '--load',
    'load mode: pre-signed messages at --rate (or as fast as acks return), latency percentiles',
  )
  .option(
    '--load-file <file>',
    'load mode: publish these pre-signed JSON lines instead of registering and signing',
  )
  .option(
    '--messages <n>',
    'load mode: messages in total (default rate × duration)',
    intIn('--messages', 1, 10_000_000),
  )
  .option('--window <n>', 'load mode: most unacked messages in flight', intIn('--window', 1, 1_000_000), 2000)
  .option('--connections <n>', 'load mode: MQTT connections', intIn('--connections', 1, 64), 4)
  .option('--devices <n>', 'simulated trackers (scenarios: instances)', intIn('--devices', 1, 100_000))
  .option(
    '--rate <r>',
    'messages per second, all trackers together (load: unset = as fast as acks return)',
    positiveNumber('--rate'),
  )
  .option('--duration <s>', 'seconds to publish', positiveNumber('--duration'), 30)
  .option('--records <k>', 'fixes per message', intIn('--records', 1, 500), 1)
  .option('--from <lat,lon>', 'start of the track', latLon, { lat: 22.61, lon: 120.27 })
  .option('--to <lat,lon>', 'end of the track', latLon, { lat: 51.9, lon: 4.4 })
  .option('--speed <kmh>', 'speed along the track, km/h', nonNegative, 30)
  .addOption(new Option('--alg <alg>', 'signing algorithm').choices(['EdDSA', 'ES256']).default('EdDSA'))
  .option('--prefix <topic>', 'MQTT topic prefix', 'chipwatch/v1')
  .option(
    '--id-prefix <id>',
    'device ids are <id-prefix>-0001, -0002, …',
    `sim-${randomBytes(2).toString('hex')}`,
  );

export interface Opts {
  api: string;
  mqtt: string;
  token?: string;
  dataDir: string;
  scenario?: string;
  speedup: number;
  seed: number;
  settle: number;
  json?: boolean;
  load?: boolean;
  loadFile?: string;
  messages?: number;
  window: number;
  connections: number;
  devices?: number;
  rate?: number;
  duration: number;
  records: number;
  from: LatLon;
  to: LatLon;
  speed: number;
  alg: DeviceAlg;
  prefix: string;
  idPrefix: string;
}

function progressLine(devices: readonly SimDevice[], startMs: number): string {
  const t = fleetTotals(devices.map((d) => d.tracker));
  const elapsedS = ((performance.now() - startMs) / 1000).toFixed(1);
  return `[${elapsedS.padStart(6)} s] sent ${t.sent}  acked ${t.acked}  pending ${t.pending}  resent ${t.resent}`;
}

/** Publishes `rate` messages a second in total, round-robin over the devices, until the duration or a stop. */
function publish(
  devices: readonly SimDevice[],
  o: Opts & { rate: number },
  stopped: () => boolean,
): Promise<void> {
  const total = Math.max(1, Math.round(o.rate * o.duration));
  // Records tile each device's reporting interval, so fixes never share a timestamp or go back in time.
  const recordStepMs = (devices.length / o.rate / o.records) * 1000;
  const startMs = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - startMs) / 1000) * o.rate) + 1);
      for (let burst = 0; sent < due && burst < MAX_BURST && !stopped(); burst++, sent++) {
        const d = devices[sent % devices.length]!;
        const now = Date.now();
        const records = Array.from({ length: o.records }, (_, i) =>
          d.track.record(Math.round(now - (o.records - 1 - i) * recordStepMs)),
        );
        d.tracker.send(records);
      }
      if (sent >= total || stopped()) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, TICK_MS);
    tick();
  });
}

async function main(o: Opts): Promise<number> {
  if (o.load || o.loadFile) return runLoadCommand(o);
  if (o.scenario) return runScenarioCommand(o);
  const legacy = { ...o, devices: o.devices ?? 1, rate: o.rate ?? 10 };
  return rateMode(legacy);
}

async function rateMode(o: Opts & { devices: number; rate: number }): Promise<number> {
  const token = await resolveToken({ ...(o.token ? { token: o.token } : {}), dataDir: o.dataDir });
  const devices = await startFleet({
    count: o.devices,
    idPrefix: o.idPrefix,
    alg: o.alg,
    apiUrl: o.api,
    token,
    mqttUrl: o.mqtt,
    topicPrefix: o.prefix,
    from: o.from,
    to: o.to,
    speedKmh: o.speed,
  });
  console.error(
    `registered ${devices.length} device(s) ${devices[0]?.deviceId}…; publishing ${o.rate} msg/s for ${o.duration} s`,
  );

  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error('stopping: waiting for outstanding acks (Ctrl-C again to quit now)');
  });

  const startMs = performance.now();
  const progress = setInterval(() => console.error(progressLine(devices, startMs)), 1000);
  await publish(devices, o, () => stopping);
  await Promise.all(devices.map((d) => d.tracker.waitAllAcked(DRAIN_TIMEOUT_MS)));
  clearInterval(progress);

  const t = fleetTotals(devices.map((d) => d.tracker));
  const lat = fleetLatenciesMs(devices.map((d) => d.tracker));
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v}`);
  console.log(
    `sent ${t.sent}  acked ${t.acked}  resent ${t.resent}  ack latency p50 ${ms(percentile(lat, 50))} ms  p99 ${ms(percentile(lat, 99))} ms  unacked ${t.pending}`,
  );
  await stopFleet(devices);
  if (t.pending > 0) {
    console.error(
      `${t.pending} message(s) never acked within ${DRAIN_TIMEOUT_MS / 1000} s: check chipwatch's log and GET /v1/rejections?deviceId=${devices[0]?.deviceId}`,
    );
    return 1;
  }
  return 0;
}

const opts = program.parse().opts<Opts>();
if (opts.scenario && (opts.load || opts.loadFile))
  program.error('--scenario and --load are separate modes: pick one');
main(opts).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`device-sim: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
