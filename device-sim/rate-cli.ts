// `npm run sim` without --scenario or --load: registers trackers, publishes signed telemetry along a line at a rate,
// and reports what was acked and how fast.
import { resolveToken } from './api.ts';
import { type SimDevice, startFleet, stopFleet } from './fleet.ts';
import type { Opts } from './options.ts';
import { fleetLatenciesMs, fleetTotals, percentile } from './stats.ts';

const DRAIN_TIMEOUT_MS = 30_000;
/** Publishing tick: timers are not precise below this, and each tick catches up on every message due. */
const TICK_MS = 10;
/** Most messages one tick may catch up on, so a slow loop never blocks acks for long. */
const MAX_BURST = 1000;

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

export async function runRateCommand(opts: Opts): Promise<number> {
  const o = { ...opts, devices: opts.devices ?? 1, rate: opts.rate ?? 10 };
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
