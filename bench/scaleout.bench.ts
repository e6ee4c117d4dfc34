// Scale-out and time to alert (`npx tsx bench/scaleout.bench.ts [--quick]`, in `npm run bench`): chipwatch as
// production runs it — separate processes on one PostgreSQL and one Mosquitto with dynamic security — fed by the
// publisher process (each tracker on its own connection with its own password, every signed ack verified).
//   1. One ingest worker (CHIPWATCH_PARTS=all: ingest, API, alert dispatcher), then a second one started beside it
//      (CHIPWATCH_PARTS=ingest, DISPATCHER=off), both routing by sender (INGEST_ROUTING=by-sender: each reads every
//      message and keeps its own trackers) or, with BENCH_SCALE_ROUTING=shared, on one shared subscription
//      (MQTT_SHARED_GROUP, round-robin on Mosquitto): msg/s with one and with two, CPU per message, and by SQL:
//      nothing lost, nothing stored twice, per-device seq order.
//   2. Time to alert at half the peak rate: trackers bound to no shipment send one fix inside China among the load;
//      publish → alert event on GET /v1/alerts/stream (compliance token) and → webhook received: p50, p99, p99.9.
// Targets: BENCH_DATABASE_URL (else an embedded PostgreSQL the bench starts) and BENCH_MQTT_URL (else a local
// Mosquitto with dynamic security) with its credentials, as bench/targets.ts describes; the bench creates and
// deletes an ack observer client there. Sizes: BENCH_SCALE_MESSAGES per worker phase, BENCH_DEVICES, BENCH_WINDOW,
// BENCH_ALERTS, BENCH_ALERT_SECONDS, BENCH_ALERT_RATE (instead of half the peak); --quick divides them by 10 (3 for
// the alert phase). Device ids carry a run id, so an external database may be reused. Figures only: no time is
// asserted; the exit code is 1 only when the stored rows differ from what was sent or an alert never arrived.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../device-sim/stats.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from '../src/embedded/postgres.ts';
import { createLogger } from '../src/log.ts';
import type { TestBroker } from '../tests/helpers/broker.ts';
import { findMosquittoDynsec, startMosquittoForChipwatch } from '../tests/helpers/mosquitto.ts';
import { freePort } from '../tests/helpers/postgres.ts';
import { startWebhookReceiver, watchSse } from './alert-watch.ts';
import { ackKeyOf, benchToken, createWebhookChannel, deleteChannel, registerDevices } from './api-client.ts';
import { type ChipwatchProcess, startChipwatchProcess } from './chipwatch-process.ts';
import { cpuSnapshot } from './cpu.ts';
import { progress, runBench } from './lifecycle.ts';
import { type BenchDevice, makeDevices, signAlertMessage, signMessages, writeLines } from './messages.ts';
import { type AckObserver, checkStored, observeAcks, type StoredCheck } from './order-check.ts';
import type { PublisherResult } from './publisher.ts';
import { runPublisher } from './run-publisher.ts';
import { externalDatabaseUrl, externalMqtt } from './targets.ts';

const quick = process.argv.includes('--quick');
const sizeFromEnv = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return Math.max(1, Math.round(fallback));
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
};
const sizes = {
  messages: sizeFromEnv('BENCH_SCALE_MESSAGES', quick ? 3_000 : 30_000),
  devices: sizeFromEnv('BENCH_DEVICES', 50),
  window: sizeFromEnv('BENCH_WINDOW', 2_000),
  alerts: sizeFromEnv('BENCH_ALERTS', quick ? 300 : 1_000),
  alertSeconds: sizeFromEnv('BENCH_ALERT_SECONDS', quick ? 10 : 30),
};
const TUNABLES = ['INGEST_BATCH_MAX', 'INGEST_BATCH_MS', 'INGEST_QUEUE_MAX', 'DB_POOL_MAX', 'VERIFY_WORKERS'];
const PREFIX = 'chipwatch/v1';
const GROUP = 'chipwatch-bench';
const routing = process.env.BENCH_SCALE_ROUTING ?? 'by-sender';
if (routing !== 'by-sender' && routing !== 'shared')
  throw new Error('BENCH_SCALE_ROUTING must be by-sender or shared');
const LEASE_S = 3;
const ALERT_TYPE = 'RESTRICTED_ZONE_ENTERED';
const runId = randomBytes(3).toString('hex');

const say = progress('scale');

const root = mkdtempSync(join(tmpdir(), 'chipwatch-scale-'));
chmodSync(root, 0o755); // as root, the embedded server runs as `postgres` and must pass through
const pgDataDir = join(root, 'pg');
const stops: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((e: Error) => say(`stopping: ${e.message}`));
    rmSync(root, { recursive: true, force: true });
  })();
  return cleaning;
}

interface Target {
  databaseUrl: string;
  mqtt: Record<string, string>;
  admin?: { username: string; password: string };
  describe: string;
}

/** External servers from BENCH_* variables, else an embedded PostgreSQL and a local dynsec Mosquitto. */
async function targets(): Promise<Target> {
  let databaseUrl = externalDatabaseUrl();
  let dbText = 'external PostgreSQL (BENCH_DATABASE_URL)';
  if (!databaseUrl) {
    const pg: EmbeddedPg = await startEmbeddedPostgres({
      dataDir: pgDataDir,
      port: await freePort(),
      log: createLogger('silent'),
    });
    stops.push(() => pg.stop());
    databaseUrl = pg.url;
    dbText = 'embedded PostgreSQL started by the bench';
  }
  const external = externalMqtt();
  if (external)
    return {
      databaseUrl,
      admin: external.admin,
      mqtt: external.env,
      describe: `${dbText}; external Mosquitto (BENCH_MQTT_URL)`,
    };
  const m: TestBroker & {
    env: Record<string, string>;
    dynsec: { admin: { username: string; password: string } };
  } = await startMosquittoForChipwatch(PREFIX);
  stops.push(() => m.stop());
  return {
    databaseUrl,
    mqtt: m.env,
    admin: m.dynsec.admin,
    describe: `${dbText}; Mosquitto with dynamic security started by the bench`,
  };
}

interface Phase {
  name: string;
  workers: ChipwatchProcess[];
  pub: PublisherResult;
  stored: StoredCheck;
  acks: ReturnType<AckObserver['counts']>;
  /** CPU seconds over the run: per worker, PostgreSQL (embedded only), Mosquitto (local only), machine. */
  cpu: { workersS: number[]; postgresS: number; mosquittoS: number; machineS: number; publisherS: number };
}

async function publishPhase(o: {
  name: string;
  workers: ChipwatchProcess[];
  devices: BenchDevice[];
  lines: ReturnType<typeof signMessages>;
  databaseUrl: string;
  ackKeyFile: string;
  credentialsFile: string;
  mqttUrl: string;
  observer?: AckObserver;
  ratePerS?: number;
  onStart?: () => void;
}): Promise<Phase> {
  const file = join(root, `${o.name.replace(/\W+/g, '-')}.jsonl`);
  writeLines(file, o.lines);
  const ranges = new Map<string, { lo: number; hi: number }>();
  for (const l of o.lines) {
    const r = ranges.get(l.d);
    if (r) r.hi = Math.max(r.hi, l.s);
    else ranges.set(l.d, { lo: l.s, hi: l.s });
  }
  const since = new Date(Date.now() - 1000);
  o.observer?.reset();
  let start = { sys: cpuSnapshot(pgDataDir), workers: o.workers.map((w) => w.cpuS()) };
  let end = start;
  const pub = await runPublisher({
    file,
    ackKeyFile: o.ackKeyFile,
    credentialsFile: o.credentialsFile,
    mqttUrl: o.mqttUrl,
    label: o.name,
    connections: 1,
    window: sizes.window,
    ...(o.ratePerS === undefined ? {} : { ratePerS: o.ratePerS }),
    onPhase: (phase) => {
      const now = { sys: cpuSnapshot(pgDataDir), workers: o.workers.map((w) => w.cpuS()) };
      if (phase === 'start') {
        start = now;
        o.onStart?.();
      } else end = now;
    },
  });
  if (end === start) end = { sys: cpuSnapshot(pgDataDir), workers: o.workers.map((w) => w.cpuS()) };
  const sysEnd = end.sys;
  const stored = await checkStored(o.databaseUrl, { ranges, recordsPerMessage: 1 }, since);
  const acks = o.observer?.counts() ?? { acks: Number.NaN, unverified: Number.NaN, backwards: Number.NaN };
  const phase: Phase = {
    name: o.name,
    workers: o.workers,
    pub,
    stored,
    acks,
    cpu: {
      workersS: o.workers.map((_, i) => end.workers[i]! - start.workers[i]!),
      postgresS: sysEnd.postgresS - start.sys.postgresS,
      mosquittoS: sysEnd.mosquittoS - start.sys.mosquittoS,
      machineS: sysEnd.machineS - start.sys.machineS,
      publisherS: pub.cpuS,
    },
  };
  const s = stored;
  say(
    `${o.name}: ${Math.round(pub.msgPerS)} msg/s; sent ${s.sent}, stored ${s.stored}, lost ${s.lost}, twice ${s.storedTwice}, ` +
      `records ${s.records}/${s.recordsExpected}, refused ${s.refused}, out of order: received ${s.receivedOutOfOrder}, ` +
      `committed ${s.committedOutOfOrder}; acks backwards ${acks.backwards}`,
  );
  return phase;
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function storedOk(s: StoredCheck): boolean {
  return (
    s.lost === 0 &&
    s.storedTwice === 0 &&
    s.recordsTwice === 0 &&
    s.records === s.recordsExpected &&
    s.refused === 0
  );
}

function renderPhases(phases: Phase[]): string {
  const rows = phases.map((p) => {
    const wall = p.pub.durationS;
    const chipwatchS = p.cpu.workersS.reduce((a, b) => a + b, 0);
    const servers = [p.cpu.postgresS, p.cpu.mosquittoS].filter(Number.isFinite);
    // PostgreSQL and Mosquitto are measured only when the bench started them (not on external servers).
    const serverS = servers.length ? chipwatchS + servers.reduce((a, b) => a + b, 0) : Number.NaN;
    return [
      p.name,
      f0(p.pub.messages),
      f0(p.pub.msgPerS),
      p.pub.latencyMs.p50.toFixed(0),
      p.pub.latencyMs.p99.toFixed(0),
      p.cpu.workersS.map((s) => f2(s / wall)).join(' + '),
      f2(p.cpu.postgresS / wall),
      f2(p.cpu.mosquittoS / wall),
      f2(p.cpu.publisherS / wall),
      f0((chipwatchS / p.pub.acked) * 1e6),
      f0((serverS / p.pub.acked) * 1e6),
      f2(
        Math.max(0, p.cpu.machineS - (Number.isFinite(serverS) ? serverS : chipwatchS) - p.cpu.publisherS) /
          wall,
      ),
    ];
  });
  const checks = phases.map((p) => [
    p.name,
    f0(p.stored.sent),
    f0(p.stored.lost),
    f0(p.stored.storedTwice),
    `${f0(p.stored.records)}/${f0(p.stored.recordsExpected)}`,
    f0(p.stored.refused),
    f0(p.stored.floorsBehind),
    f0(p.stored.receivedOutOfOrder),
    f0(p.stored.committedOutOfOrder),
    f0(p.acks.backwards),
    f0(p.acks.unverified),
    storedOk(p.stored) ? 'yes' : 'NO',
  ]);
  return [
    table(
      [
        'ingest workers',
        'msgs',
        'msg/s',
        'ack p50 ms',
        'ack p99 ms',
        'cores: workers',
        'postgres',
        'mosquitto',
        'publisher',
        'chipwatch CPU µs/msg',
        '+ pg + broker µs/msg',
        'rest of machine',
      ],
      rows,
    ),
    '',
    table(
      [
        'ingest workers',
        'sent',
        'lost',
        'stored twice',
        'records',
        'refused',
        'floors behind',
        'received out of seq order',
        'txn out of seq order',
        'acks backwards',
        'acks unverified',
        'ok',
      ],
      checks,
    ),
  ].join('\n');
}

function pct(xs: number[]): string[] {
  const p = (q: number) => {
    const v = percentile(xs, q);
    return v === undefined ? '–' : v.toFixed(1);
  };
  return [p(50), p(99), p(99.9), p(100)];
}

async function main(): Promise<number> {
  say(`sizes: ${JSON.stringify(sizes)}${quick ? ' (--quick)' : ''}; run id ${runId}`);
  const found = findMosquittoDynsec();
  if (!externalMqtt() && !found.ok) {
    // Shared subscriptions and dynamic security need Mosquitto; `npm run bench` goes on without this part.
    say(`skipped: ${found.reason}; or point BENCH_MQTT_URL at a Mosquitto (bench/targets.ts)`);
    return 0;
  }
  const t = await targets();
  say(t.describe);
  const secret = randomBytes(32).toString('base64url');
  const dataDir = join(root, 'data');
  const tunables = Object.fromEntries(
    TUNABLES.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
  );
  const common: Record<string, string> = {
    ...tunables,
    DATABASE_URL: t.databaseUrl,
    ...t.mqtt,
    ...(routing === 'shared'
      ? { MQTT_SHARED_GROUP: GROUP }
      : { INGEST_ROUTING: 'by-sender', INGEST_WORKER_LEASE_S: String(LEASE_S) }),
    DATA_DIR: dataDir, // shared: the same ack key, JWT secret and evidence key in both workers
    AUTH_JWT_SECRET: secret,
    BIND_HOST: '127.0.0.1',
  };
  const httpPort = await freePort();
  const w1 = await startChipwatchProcess(
    'worker 1',
    {
      ...common,
      CHIPWATCH_PARTS: 'all',
      HTTP_PORT: String(httpPort),
      MQTT_CLIENT_ID: `chipwatch-bench-${runId}-1`,
      RATE_LIMIT_PER_MIN: '10000000',
      RATE_LIMIT_BURST: '1000000',
      WEBHOOK_ALLOW_PRIVATE: '127.0.0.1/32',
    },
    say,
  );
  stops.push(() => w1.stop());
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  say(`worker 1 runs (pid ${w1.pid}): ingest, API on ${httpUrl}, alert dispatcher`);
  const ackKey = await ackKeyOf(httpUrl);
  const ackKeyFile = join(root, 'ack-key.json');
  writeFileSync(ackKeyFile, JSON.stringify(ackKey));

  const devices = makeDevices(sizes.devices, `bench-${runId}`);
  const alertDevices = makeDevices(sizes.alerts, `alert-${runId}`);
  say(
    `registering ${devices.length} load trackers and ${alertDevices.length} alert trackers through the API`,
  );
  const credentialsFile = join(root, 'mqtt-credentials.json');
  writeFileSync(
    credentialsFile,
    JSON.stringify(await registerDevices(httpUrl, secret, [...devices, ...alertDevices])),
    { mode: 0o600 },
  );
  const mqttUrl = t.mqtt.MQTT_URL!;
  let observer: AckObserver | undefined;
  if (t.admin) {
    observer = await observeAcks({ mqttUrl, admin: t.admin, topicPrefix: PREFIX, ackKey });
    const o = observer;
    stops.push(() => o.stop());
  }
  const phaseArgs = { devices, databaseUrl: t.databaseUrl, ackKeyFile, credentialsFile, mqttUrl, observer };

  const phases: Phase[] = [];
  say(`phase "1 worker": ${sizes.messages} messages as fast as acks return`);
  phases.push(
    await publishPhase({
      ...phaseArgs,
      name: '1',
      workers: [w1],
      lines: signMessages(devices, sizes.messages, 1),
    }),
  );
  const w2 = await startChipwatchProcess(
    'worker 2',
    { ...common, CHIPWATCH_PARTS: 'ingest', DISPATCHER: 'off', MQTT_CLIENT_ID: `chipwatch-bench-${runId}-2` },
    say,
  );
  stops.push(() => w2.stop());
  if (routing === 'shared') {
    say(`worker 2 runs (pid ${w2.pid}): ingest only, same shared subscription $share/${GROUP}/…`);
  } else {
    // Worker 1 renews its lease every LEASE_S / 3 s and then sees worker 2; until then both would take worker 2's share.
    say(`worker 2 runs (pid ${w2.pid}): ingest only, routing by sender; waiting for worker 1 to see it`);
    await new Promise((r) => setTimeout(r, (LEASE_S * 1000 * 2) / 3));
  }
  phases.push(
    await publishPhase({
      ...phaseArgs,
      name: '2',
      workers: [w1, w2],
      lines: signMessages(devices, sizes.messages, 1),
    }),
  );

  // Time to alert, at half the best rate measured, with both workers.
  const peak = Math.max(...phases.map((p) => p.pub.msgPerS));
  // BENCH_ALERT_RATE replaces half the peak, e.g. to see the floor of time to alert on an idle system.
  const rate = process.env.BENCH_ALERT_RATE
    ? sizeFromEnv('BENCH_ALERT_RATE', 1)
    : Math.max(1, Math.round(peak / 2));
  const total = Math.max(sizes.alerts * 2, rate * sizes.alertSeconds);
  const compliance = await benchToken(secret, 'compliance');
  const sse = await watchSse(httpUrl, compliance);
  const hook = await startWebhookReceiver();
  stops.push(async () => sse.close());
  stops.push(() => hook.stop());
  const channel = await createWebhookChannel(httpUrl, secret, hook.url, [ALERT_TYPE]);
  stops.push(() => deleteChannel(httpUrl, secret, channel));
  const load = signMessages(devices, total - sizes.alerts, 1);
  const lines: typeof load = [];
  const alertIndex = new Map<string, number>();
  let a = 0;
  for (let i = 0; i < total; i++) {
    const due = Math.floor(((a + 0.5) * total) / sizes.alerts);
    if (a < sizes.alerts && i === due) {
      const d = alertDevices[a]!;
      alertIndex.set(d.id, i);
      lines.push(signAlertMessage(d, a));
      a++;
    } else lines.push(load.shift()!);
  }
  say(
    `time to alert: ${total} messages at ${rate} msg/s (half of ${Math.round(peak)}), ${sizes.alerts} of them ` +
      `raising ${ALERT_TYPE}; watching the SSE stream and a webhook`,
  );
  let t0 = Number.NaN;
  const alertPhase = await publishPhase({
    ...phaseArgs,
    devices: [...devices, ...alertDevices],
    name: `2 at ${rate} msg/s, alerts`,
    workers: [w1, w2],
    lines,
    ratePerS: rate,
    onStart: () => {
      t0 = performance.now();
    },
  });
  // The last alerts may still be on their way to the webhook.
  const deadline = performance.now() + 60_000;
  while (
    performance.now() < deadline &&
    (sse.seen.firstAt.size < sizes.alerts || hook.seen.firstAt.size < sizes.alerts)
  )
    await new Promise((r) => setTimeout(r, 200));
  const latency = (seen: Map<string, number>) =>
    [...alertIndex].flatMap(([d, i]) => {
      const at = seen.get(d);
      return at === undefined ? [] : [at - (t0 + (i * 1000) / rate)];
    });
  const toSse = latency(sse.seen.firstAt);
  const toHook = latency(hook.seen.firstAt);

  const out: string[] = [''];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  out.push(
    `chipwatch scale-out benchmark — ${new Date().toISOString()}, ${availableParallelism()} cores (${cpu}); ` +
      `${t.describe}; ${sizes.devices} load trackers, each on its own MQTT connection, window ${sizes.window}, ` +
      `1 rec/msg, QoS 1; every ack verified by the publisher; workers ${
        routing === 'shared'
          ? `share $share/${GROUP}/… (round-robin)`
          : 'route by sender (INGEST_ROUTING=by-sender)'
      }`,
  );
  out.push('', renderPhases([...phases, alertPhase]), '');
  const [one, two] = phases;
  if (one && two)
    out.push(
      `two workers / one: ${(two.pub.msgPerS / one.pub.msgPerS).toFixed(2)}× msg/s ` +
        `(${f0(one.pub.msgPerS)} → ${f0(two.pub.msgPerS)})`,
    );
  out.push(
    'received / txn out of seq order: consecutive seqs of one device where the later seq was received earlier',
    '(received_at) or stored by an older transaction (xmin); acks backwards: a verified ack whose seq is below',
    'one the same device had already been acked (seen by an observer subscribed to every ack topic).',
    '',
  );
  out.push(
    table(
      ['time to alert (ms)', 'alerts', 'seen', 'p50', 'p99', 'p99.9', 'max'],
      [
        ['publish → SSE event', f0(sizes.alerts), f0(toSse.length), ...pct(toSse)],
        ['publish → webhook received', f0(sizes.alerts), f0(toHook.length), ...pct(toHook)],
      ],
    ),
  );
  out.push(
    `at ${rate} msg/s (${process.env.BENCH_ALERT_RATE ? 'BENCH_ALERT_RATE; peak' : 'half the peak of'} ${f0(peak)} msg/s), two workers; ` +
      "publish = the message's slot in the fixed-rate",
    'schedule, so a publisher running late counts against chipwatch; one alert per tracker (a second would update it).',
  );
  process.stdout.write(`${out.join('\n')}\n`);
  const ok =
    [...phases, alertPhase].every((p) => storedOk(p.stored)) &&
    toSse.length === sizes.alerts &&
    toHook.length === sizes.alerts;
  if (!ok) say('ERROR: stored rows differ from what was sent, or some alerts never arrived');
  return ok ? 0 : 1;
}

await runBench(say, main, cleanUp);
