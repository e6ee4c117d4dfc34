// End-to-end ingest benchmark (`npx tsx bench/ingest.bench.ts [--quick]`, first of `npm run bench`): the Ed25519
// verify limit, then chipwatch started embedded in this process fed by a separate publisher process, then a naive
// one-transaction-per-message consumer fed the same way. Progress goes to stderr, the figures to stdout. Nothing
// here asserts a time; the exit code is 1 only when the database does not hold exactly what was sent.
// Sizes: BENCH_MESSAGES (1-record scenario; the 10-record one sends a third as many), BENCH_DEVICES,
// BENCH_BASELINE_MESSAGES (same split), BENCH_CONNECTIONS, BENCH_WINDOW; --quick divides the defaults by 10.
// BENCH_BROKER=mosquitto runs both consumers on their own Mosquitto instead of aedes (the production shape), and
// INGEST_BATCH_MAX, INGEST_BATCH_MS, INGEST_QUEUE_MAX, DB_POOL_MAX are passed to chipwatch when set.
// External servers: BENCH_DATABASE_URL and BENCH_MQTT_URL with its credentials (bench/targets.ts); device ids and the
// baseline's schema carry a run id (the schema is dropped at the end), so an external database may be reused. The
// baseline keeps a broker of its own (aedes, or a local Mosquitto under BENCH_BROKER=mosquitto).
// What authentication and signed acks cost: on the embedded aedes a second chipwatch runs in this process on the same
// database with the MQTT edge as it was before issue 12 (startChipwatch's in-process `benchmarkOnly.openEdge`: no
// broker authentication or ACLs, unsigned acks; its publisher takes acks unchecked over one anonymous connection per
// device, the fleet's shape, or with BENCH_OPEN_CONNECTIONS=shared over 4 shared ones as the bench before issue 12
// did), and the open and secured scenarios alternate — open, secured, then secured, open (BENCH_EDGE_ROUNDS
// rounds of the 1-record scenario, default 2; one of the 10-record one) — so the machine's drift falls on both.
// The report pairs adjacent runs and prints secured ÷ open with its range. BENCH_EDGES=open runs only the open
// edge, in the order, sizes and shared connections of the bench before issue 12 (to A/B the refactor alone against an older checkout:
// `BENCH_EDGES=open npx tsx bench/alternate.ts --edge open OLD NEW`); BENCH_EDGES=secured only the secured one.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynsecAccess } from '../src/broker/dynsec.ts';
import { loadConfig } from '../src/config.ts';
import type { Pool } from '../src/db/pool.ts';
import { dbCredentialSource } from '../src/embedded/broker.ts';
import { createLogger } from '../src/log.ts';
import { type Running, startChipwatch } from '../src/server.ts';
import type { TestBroker } from '../tests/helpers/broker.ts';
import { startMosquittoForChipwatch } from '../tests/helpers/mosquitto.ts';
import { freePort } from '../tests/helpers/postgres.ts';
import { registerDevices } from './api-client.ts';
import { type Baseline, startBaseline } from './baseline.ts';
import { internalsBetween, scrapeIngest } from './chipwatch-metrics.ts';
import { type CpuSnapshot, cpuSince, cpuSnapshot } from './cpu.ts';
import { progress, runBench } from './lifecycle.ts';
import { type BenchDevice, makeDevices, writeSignedMessages } from './messages.ts';
import { renderReport, type ScenarioResult, scenarioName } from './report.ts';
import { runPublisher } from './run-publisher.ts';
import { externalDatabaseUrl, externalMqtt } from './targets.ts';
import { measureSyncRate, measureVerifyRates } from './verify-rate.ts';

const quick = process.argv.includes('--quick');
const sizeFromEnv = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
};
const scale = quick ? 0.1 : 1;
const sizes = {
  messages: sizeFromEnv('BENCH_MESSAGES', 30_000 * scale),
  devices: sizeFromEnv('BENCH_DEVICES', 50),
  baselineMessages: sizeFromEnv('BENCH_BASELINE_MESSAGES', 3_000 * scale),
  connections: sizeFromEnv('BENCH_CONNECTIONS', 4),
  window: sizeFromEnv('BENCH_WINDOW', 2_000),
  edgeRounds: sizeFromEnv('BENCH_EDGE_ROUNDS', 2),
};
const edges = process.env.BENCH_EDGES ?? 'both';
const openConnections = process.env.BENCH_OPEN_CONNECTIONS ?? (edges === 'open' ? 'shared' : 'per-device');
if (openConnections !== 'shared' && openConnections !== 'per-device')
  throw new Error('BENCH_OPEN_CONNECTIONS must be per-device or shared');
if (!['both', 'open', 'secured'].includes(edges))
  throw new Error('BENCH_EDGES must be both, open or secured');
const brokerKind = process.env.BENCH_BROKER ?? 'aedes';
if (brokerKind !== 'aedes' && brokerKind !== 'mosquitto')
  throw new Error('BENCH_BROKER must be aedes or mosquitto');
const TUNABLES = ['INGEST_BATCH_MAX', 'INGEST_BATCH_MS', 'INGEST_QUEUE_MAX', 'DB_POOL_MAX'] as const;
const PREFIX = 'chipwatch/v1';
const runId = randomBytes(3).toString('hex');
const externalDb = externalDatabaseUrl();
const externalBroker = externalMqtt();
const TARGET_MSG_PER_S = 5_000;

const say = progress('bench');

const root = mkdtempSync(join(tmpdir(), 'chipwatch-bench-'));
chmodSync(root, 0o755); // as root, the embedded server runs as `postgres` and must pass through
const pgDataDir = join(root, 'data', 'pg');
let running: Running | undefined;
/** The open-edge chipwatch (bench only), on the same database: stopped before `running`, which owns it. */
let runningOpen: Running | undefined;
let baseline: Baseline | undefined;
const mosquittos: TestBroker[] = [];

let cleaning: Promise<void> | undefined;

/** Stops everything once; an interrupt and the error path both wait for the same stop. */
function cleanUp(): Promise<void> {
  cleaning ??= stopAll();
  return cleaning;
}

async function stopAll(): Promise<void> {
  const b = baseline;
  const r = running;
  const ro = runningOpen;
  baseline = undefined;
  running = undefined;
  runningOpen = undefined;
  if (b) await b.stop().catch((e: Error) => say(`stopping the baseline: ${e.message}`));
  if (ro) await ro.stop().catch((e: Error) => say(`stopping the open-edge chipwatch: ${e.message}`));
  if (r) {
    say('stopping chipwatch and its embedded PostgreSQL');
    await r.stop().catch((e: Error) => say(`stopping chipwatch: ${e.message}`));
  }
  for (const m of mosquittos.splice(0))
    await m.stop().catch((e: Error) => say(`stopping mosquitto: ${e.message}`));
  rmSync(root, { recursive: true, force: true });
}

/** A Mosquitto with dynamic security, chipwatch's service user created (tests/helpers/mosquitto.ts). */
async function mosquitto(): Promise<Awaited<ReturnType<typeof startMosquittoForChipwatch>>> {
  const m = await startMosquittoForChipwatch();
  if (cleaning) {
    await m.stop();
    throw new Error('interrupted');
  }
  mosquittos.push(m);
  return m;
}

async function chipwatchCounts(pool: Pool): Promise<{ messages: number; records: number; refused: number }> {
  const res = await pool.query(
    `SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM telemetry) AS t,
            (SELECT count(*) FROM rejections) AS r`,
  );
  const row = res.rows[0] as { m: number; t: number; r: number };
  return { messages: Number(row.m), records: Number(row.t), refused: Number(row.r) };
}

/** Signs, publishes from the publisher process, waits for the acks, and checks the database by count. */
async function scenario(o: {
  consumer: ScenarioResult['consumer'];
  edge?: ScenarioResult['edge'];
  round?: number;
  mqttUrl: string;
  devices: BenchDevice[];
  messages: number;
  recordsPerMessage: number;
  counts: () => Promise<{ messages: number; records: number; refused: number }>;
  /** chipwatch's API, to read its batch and commit metrics; absent for the baseline. */
  httpUrl?: string;
  /** The key the consumer signs acks with: the publisher verifies each ack, as a tracker does. */
  ackKey: { kty: 'OKP'; crv: 'Ed25519'; x: string };
}): Promise<ScenarioResult> {
  const name = scenarioName(o);
  const file = join(root, `${name.replace(/[^a-z0-9]+/gi, '-')}.jsonl`);
  say(`${name}: signing ${o.messages.toLocaleString('en-US')} messages across ${o.devices.length} devices`);
  const written = writeSignedMessages(file, o.devices, o.messages, o.recordsPerMessage);
  const before = await o.counts();
  const metricsBefore = o.httpUrl ? await scrapeIngest(o.httpUrl) : undefined;
  // CPU is measured from the first publish to the last ack, the interval the rates are computed over.
  let cpuStart = cpuSnapshot(pgDataDir);
  let cpu: CpuSnapshot | undefined;
  say(
    `${name}: publishing (${(written.bytes / written.messages).toFixed(0)} B per message) from a separate process`,
  );
  const ackKeyFile = join(root, `${o.consumer}-ack-key.json`);
  writeFileSync(ackKeyFile, JSON.stringify(o.ackKey));
  const pub = await runPublisher({
    file,
    ackKeyFile,
    credentialsFile: join(root, 'mqtt-credentials.json'),
    mqttUrl: o.mqttUrl,
    label: name,
    connections: sizes.connections,
    window: sizes.window,
    openEdge: o.edge === 'open',
    openPerDevice: openConnections === 'per-device',
    onPhase: (phase) => {
      if (phase === 'start') cpuStart = cpuSnapshot(pgDataDir);
      else cpu = cpuSince(cpuStart, pgDataDir);
    },
  });
  cpu ??= cpuSince(cpuStart, pgDataDir);
  const internals =
    o.httpUrl && metricsBefore
      ? internalsBetween(metricsBefore, await scrapeIngest(o.httpUrl), pub.durationS)
      : undefined;
  const after = await o.counts();
  const stored = {
    messages: after.messages - before.messages,
    records: after.records - before.records,
    refused: after.refused - before.refused,
    ok: false,
  };
  stored.ok =
    stored.messages === written.messages && stored.records === written.records && stored.refused === 0;
  const verdict = `database holds ${stored.messages} messages, ${stored.records} records, ${stored.refused} refused; sent ${written.messages} messages, ${written.records} records`;
  if (stored.ok) say(`${name}: ${verdict}: as expected`);
  else say(`ERROR ${name}: ${verdict}: MISMATCH`);
  say(
    `${name}: ${Math.round(pub.msgPerS)} msg/s, ${Math.round(pub.recordsPerS)} records/s, p99 ${pub.latencyMs.p99} ms`,
  );
  return {
    consumer: o.consumer,
    ...(o.edge ? { edge: o.edge } : {}),
    ...(o.round === undefined ? {} : { round: o.round }),
    recordsPerMessage: o.recordsPerMessage,
    pub,
    stored,
    cpu: { ...cpu, publisherS: pub.cpuS },
    ...(internals ? { internals } : {}),
  };
}

async function main(): Promise<number> {
  say(`sizes: ${JSON.stringify(sizes)}${quick ? ' (--quick)' : ''}`);
  say('Ed25519 verify rate: synchronous loop on one core (~1 s), then the async thread pool (~1 s)');
  const rates = await measureVerifyRates();
  say(`Ed25519 verify: sync ${Math.round(rates.syncPerS)}/s, async ${Math.round(rates.asyncPerS)}/s`);

  const secret = randomBytes(32).toString('base64url');
  const tunables = Object.fromEntries(TUNABLES.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  const baseEnv = {
    ...tunables,
    HTTP_PORT: '0',
    BIND_HOST: '127.0.0.1',
    AUTH_JWT_SECRET: secret,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
  };
  const config = loadConfig({
    ...baseEnv,
    // On Mosquitto chipwatch drives dynamic security itself: the trackers it registers get their clients and roles.
    ...(externalBroker ? externalBroker.env : brokerKind === 'mosquitto' ? (await mosquitto()).env : {}),
    ...(externalDb ? { DATABASE_URL: externalDb } : {}),
    HTTP_PORT: '0',
    BIND_HOST: '127.0.0.1',
    MQTT_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    DATA_DIR: join(root, 'data'),
    MQTT_CLIENT_ID: `chipwatch-bench-${process.pid}`,
  });
  const tunablesLine =
    `batch ${config.INGEST_BATCH_MAX} msgs / ${config.INGEST_BATCH_MS} ms, ` +
    `queue ${config.INGEST_QUEUE_MAX}, pool ${config.DB_POOL_MAX}`;
  const brokerLine = externalBroker
    ? 'external Mosquitto (BENCH_MQTT_URL)'
    : brokerKind === 'aedes'
      ? 'embedded aedes'
      : 'Mosquitto in its own process';
  const dbLine = externalDb ? 'external PostgreSQL (BENCH_DATABASE_URL)' : 'embedded PostgreSQL';
  say(`starting chipwatch in this process: ${dbLine}, ${brokerLine}; ${tunablesLine}`);
  const cw = await startChipwatch(config, createLogger(config.LOG_LEVEL));
  running = cw;
  if (cleaning) {
    // Interrupted while starting: the clean-up ran before there was anything to stop.
    await cw.stop();
    throw new Error('interrupted');
  }
  const devices = makeDevices(sizes.devices, `bench-${runId}`);
  say(`registering ${devices.length} devices through the API`);
  const credentialsFile = join(root, 'mqtt-credentials.json');
  writeFileSync(credentialsFile, JSON.stringify(await registerDevices(cw.httpUrl!, secret, devices)), {
    mode: 0o600,
  });

  // The open edge needs chipwatch's own aedes: not on Mosquitto or an external broker.
  const withOpenEdge = edges !== 'secured' && brokerKind === 'aedes' && !externalBroker;
  if (edges === 'open' && !withOpenEdge) throw new Error('BENCH_EDGES=open needs the embedded aedes');
  if (withOpenEdge) {
    say('starting a second chipwatch in this process, same database, with the open MQTT edge (bench only)');
    const open = await startChipwatch(
      loadConfig({
        ...baseEnv,
        DATABASE_URL: cw.databaseUrl,
        MQTT_PORT: String(await freePort()),
        DATA_DIR: join(root, 'data-open'),
        MQTT_CLIENT_ID: `chipwatch-bench-open-${process.pid}`,
      }),
      createLogger(config.LOG_LEVEL),
      { benchmarkOnly: { openEdge: true } },
    );
    runningOpen = open;
    if (cleaning) {
      await open.stop();
      throw new Error('interrupted');
    }
  }
  const cwOpen = runningOpen;

  const results: ScenarioResult[] = [];
  const chipwatchRun = (
    messages: number,
    recordsPerMessage: number,
    edge?: 'open' | 'secured',
    round?: number,
  ) => {
    const target = edge === 'open' ? cwOpen! : cw;
    return scenario({
      consumer: 'chipwatch',
      ...(edge ? { edge } : {}),
      ...(round === undefined ? {} : { round }),
      mqttUrl: target.mqttUrl,
      devices,
      messages,
      recordsPerMessage,
      counts: () => chipwatchCounts(target.pool),
      httpUrl: target.httpUrl!,
      ackKey: target.ackKey,
    });
  };
  const tenRecMessages = Math.max(1, Math.round(sizes.messages / 3));
  if (cwOpen && edges === 'open') {
    results.push(await chipwatchRun(sizes.messages, 1, 'open'));
    results.push(await chipwatchRun(tenRecMessages, 10, 'open'));
  } else if (cwOpen) {
    // ABBA…: open, secured, then secured, open, so a steady drift of the machine weighs on both alike.
    for (let round = 1; round <= sizes.edgeRounds; round++) {
      const order = round % 2 === 1 ? (['open', 'secured'] as const) : (['secured', 'open'] as const);
      const rounds = sizes.edgeRounds > 1 ? round : undefined;
      for (const edge of order) results.push(await chipwatchRun(sizes.messages, 1, edge, rounds));
    }
    for (const edge of ['open', 'secured'] as const)
      results.push(await chipwatchRun(tenRecMessages, 10, edge));
  } else {
    results.push(await chipwatchRun(sizes.messages, 1));
    results.push(await chipwatchRun(tenRecMessages, 10));
  }

  say(
    `starting the naive baseline: fresh database on the same PostgreSQL, its own ${brokerKind}, in this process`,
  );
  const baselineBroker = brokerKind === 'mosquitto' ? await mosquitto() : undefined;
  if (baselineBroker) {
    // The baseline's own Mosquitto admits the same trackers with the same passwords.
    const access = await DynsecAccess.connect({
      url: baselineBroker.url,
      ...baselineBroker.dynsec.admin,
      topicPrefix: PREFIX,
    });
    const passwords = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Record<string, string>;
    for (const d of devices) await access.grant('device', d.id, passwords[d.id]!);
    await access.close();
  }
  baseline = await startBaseline({
    adminUrl: cw.databaseUrl,
    dbName: `bench_baseline_${runId}`,
    devices,
    prefix: PREFIX,
    credentials: dbCredentialSource(cw.pool),
    ...(baselineBroker ? { mqttUrl: baselineBroker.url, service: baselineBroker.service } : {}),
  });
  const b = baseline;
  const baselineRun = (messages: number, recordsPerMessage: number) =>
    scenario({
      consumer: 'baseline',
      mqttUrl: b.mqttUrl,
      devices,
      messages,
      recordsPerMessage,
      counts: b.counts,
      ackKey: b.ackKey,
    });
  results.push(await baselineRun(sizes.baselineMessages, 1));
  results.push(await baselineRun(Math.max(1, Math.round(sizes.baselineMessages / 3)), 10));
  say('Ed25519 verify rate again, synchronous (~1 s): the machine speed drifts between start and end');
  const syncEndPerS = measureSyncRate();

  process.stdout.write(
    renderReport({
      rates,
      syncEndPerS,
      scenarios: results,
      devices: sizes.devices,
      broker: externalBroker ? 'external Mosquitto' : brokerKind === 'aedes' ? 'embedded aedes' : 'Mosquitto',
      database: externalDb ? 'external PostgreSQL' : 'embedded PostgreSQL',
      tunables: tunablesLine,
      connections: openConnections === 'per-device' ? 'per-device' : sizes.connections,
      window: sizes.window,
      targetMsgPerS: TARGET_MSG_PER_S,
    }),
  );
  return results.every((r) => r.stored.ok) ? 0 : 1;
}

await runBench(say, main, cleanUp);
