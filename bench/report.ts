// The final figures as plain-text tables (stdout): one row per scenario, where the cores went, then ratios and
// context lines.
import { availableParallelism } from 'node:os';
import type { IngestInternals } from './chipwatch-metrics.ts';
import type { CpuSnapshot } from './cpu.ts';
import type { PublisherResult } from './publisher.ts';
import type { VerifyRates } from './verify-rate.ts';

export interface ScenarioResult {
  consumer: 'chipwatch' | 'baseline';
  /**
   * chipwatch only: 'open' = the MQTT edge as before issue 12 (startChipwatch's benchmarkOnly.openEdge: no broker
   * authentication or ACLs, unsigned acks; anonymous publisher connections, acks not verified); 'secured' =
   * as shipped (each device on its own authenticated connection, every ack signed and verified).
   */
  edge?: 'open' | 'secured';
  /** Which round of alternating open / secured runs, from 1; absent when a scenario runs once. */
  round?: number;
  recordsPerMessage: number;
  pub: PublisherResult;
  stored: { messages: number; records: number; refused: number; ok: boolean };
  /** CPU seconds during the publish run, by process (and the bench process by thread). */
  cpu: CpuSnapshot & { publisherS: number };
  /** chipwatch only: its batch and commit metrics over the run. */
  internals?: IngestInternals;
}

export interface Report {
  rates: VerifyRates;
  /** The synchronous verify rate measured again after the scenarios. */
  syncEndPerS: number;
  scenarios: ScenarioResult[];
  devices: number;
  /** Where the broker and the database ran, as words (e.g. "embedded aedes", "external PostgreSQL"). */
  broker: string;
  database: string;
  /** chipwatch's ingest settings, as one line. */
  tunables: string;
  /** Shared anonymous connections of the open edge's publisher; 'per-device': one per device. */
  connections: number | 'per-device';
  window: number;
  targetMsgPerS: number;
}

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const fixed = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function scenarioName(
  s: Pick<ScenarioResult, 'consumer' | 'recordsPerMessage' | 'edge' | 'round'>,
): string {
  const who = s.edge === 'open' ? `${s.consumer} open edge` : s.consumer;
  return `${who}, ${s.recordsPerMessage} rec/msg${s.round === undefined ? '' : ` #${s.round}`}`;
}

/** CPU µs per acked message: the consumer (bench process, PostgreSQL, Mosquitto) and the publisher process. */
export function cpuPerMessage(s: ScenarioResult): { consumerUs: number; publisherUs: number } {
  const consumerS = [s.cpu.mainS, s.cpu.otherThreadsS, s.cpu.postgresS, s.cpu.mosquittoS]
    .filter(Number.isFinite)
    .reduce((a, b) => a + b, 0);
  const acked = Math.max(1, s.pub.acked);
  return { consumerUs: (consumerS / acked) * 1e6, publisherUs: (s.cpu.publisherS / acked) * 1e6 };
}

function figures(r: Report): string {
  return table(
    [
      'scenario',
      'msgs',
      'records',
      'msg/s',
      'records/s',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'unacked',
      'stored as expected',
    ],
    r.scenarios.map((s) => [
      scenarioName(s),
      int(s.pub.messages),
      int(s.pub.records),
      int(s.pub.msgPerS),
      int(s.pub.recordsPerS),
      fixed(s.pub.latencyMs.p50),
      fixed(s.pub.latencyMs.p99),
      fixed(s.pub.latencyMs.p999),
      int(s.pub.unacked),
      s.stored.ok ? 'yes' : 'NO',
    ]),
  );
}

function whereTheCoresWent(r: Report): string {
  return table(
    [
      'cores used (CPU s ÷ wall s)',
      'main thread',
      'other threads',
      'publisher',
      'postgres',
      'mosquitto',
      'rest of machine',
      'batches',
      'msgs/batch',
      'commit ms',
      'commit busy',
      'CPU µs/msg',
      'pub. µs/msg',
    ],
    r.scenarios.map((s) => {
      const cores = (cpuS: number) => fixed(cpuS / s.pub.durationS, 2);
      const i = s.internals;
      return [
        scenarioName(s),
        cores(s.cpu.mainS),
        cores(s.cpu.otherThreadsS),
        cores(s.cpu.publisherS),
        cores(s.cpu.postgresS),
        cores(s.cpu.mosquittoS),
        cores(restOfMachineS(s.cpu)),
        i ? int(i.batches) : '–',
        i ? fixed(i.meanBatchSize) : '–',
        i ? fixed(i.meanCommitMs) : '–',
        i ? `${fixed(i.commitBusy * 100, 0)}%` : '–',
        int(cpuPerMessage(s).consumerUs),
        int(cpuPerMessage(s).publisherUs),
      ];
    }),
  );
}

/** What other processes used meanwhile: the machine's busy time less everything counted in the row. */
function restOfMachineS(c: ScenarioResult['cpu']): number {
  const ours = [c.mainS, c.otherThreadsS, c.publisherS, c.postgresS, c.mosquittoS].filter(Number.isFinite);
  return Math.max(0, c.machineS - ours.reduce((a, b) => a + b, 0));
}

const spread = (xs: number[], digits = 2) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `${fixed(mid, digits)} (range ${fixed(s[0]!, digits)}–${fixed(s.at(-1)!, digits)}, ${s.length} pair${s.length > 1 ? 's' : ''})`;
};

/**
 * What the secured edge costs against the open one: per round, secured ÷ open of msg/s, ack latency and CPU per
 * message (the two runs of a round are adjacent in time, so the machine's drift falls on both), median and range.
 */
export function edgeCost(scenarios: ScenarioResult[]): string[] {
  const out: string[] = [];
  const cw = scenarios.filter((s) => s.consumer === 'chipwatch' && s.edge !== undefined);
  for (const n of [...new Set(cw.map((s) => s.recordsPerMessage))]) {
    const pairs = [...new Set(cw.map((s) => s.round ?? 1))].flatMap((round) => {
      const of = (edge: string) =>
        cw.find((s) => s.edge === edge && s.recordsPerMessage === n && (s.round ?? 1) === round);
      const open = of('open');
      const secured = of('secured');
      return open && secured ? [{ open, secured }] : [];
    });
    if (pairs.length === 0) continue;
    const ratio = (f: (s: ScenarioResult) => number) => spread(pairs.map((p) => f(p.secured) / f(p.open)));
    const mine = (edge: 'open' | 'secured', f: (s: ScenarioResult) => number) =>
      pairs.map((p) => int(f(p[edge]))).join(', ');
    out.push(
      `${n} rec/msg, secured ÷ open edge, per pair: msg/s ${ratio((s) => s.pub.msgPerS)}; ` +
        `chipwatch CPU µs/msg ${ratio((s) => cpuPerMessage(s).consumerUs)}; ` +
        `p50 latency ${ratio((s) => s.pub.latencyMs.p50)}`,
      `  msg/s open ${mine('open', (s) => s.pub.msgPerS)} | secured ${mine('secured', (s) => s.pub.msgPerS)}; ` +
        `chipwatch CPU µs/msg open ${mine('open', (s) => cpuPerMessage(s).consumerUs)} | ` +
        `secured ${mine('secured', (s) => cpuPerMessage(s).consumerUs)}; publisher CPU µs/msg open ` +
        `${mine('open', (s) => cpuPerMessage(s).publisherUs)} | secured ${mine('secured', (s) => cpuPerMessage(s).publisherUs)}`,
    );
  }
  return out;
}

export function renderReport(r: Report): string {
  const out: string[] = [''];
  out.push(
    `chipwatch ingest benchmark — ${r.devices} devices, each on its own MQTT connection with its own password, acks verified, window ${r.window} ` +
      `unacked messages, QoS 1, ${r.broker} + ${r.database}, ` +
      `${availableParallelism()} cores; chipwatch ${r.tunables}`,
  );
  if (r.scenarios.some((s) => s.edge === 'open')) {
    out.push(
      `"open edge" rows: the MQTT edge as before issue 12, for comparison only (a second chipwatch in this process, ` +
        `same database, started with the in-process benchmarkOnly.openEdge): broker without authentication or ACLs, ` +
        `unsigned acks, ${
          r.connections === 'per-device'
            ? 'one anonymous publisher connection per device'
            : `${r.connections} shared anonymous publisher connections`
        }, acks not verified.`,
    );
  }
  out.push('', figures(r), '');
  out.push(
    'latency = publish → commit → application ack, in a closed loop: with the window full it is mostly',
  );
  out.push('queueing (≈ window ÷ msg/s).', '');
  out.push(whereTheCoresWent(r), '');
  out.push(
    'main thread = the bench process event loop: the consumer (chipwatch or baseline), its pg client and,',
  );
  out.push(
    'with aedes, the broker; other threads = its libuv pool (where chipwatch verifies signatures) and GC.',
  );
  out.push(
    'batches, commit ms: chipwatch /metrics; commit busy = time inside commits ÷ wall time (commits run one',
  );
  out.push('at a time, so near 100% means the commit chain is the wall).');
  out.push(
    'CPU µs/msg = (main thread + other threads + postgres + mosquitto) CPU s ÷ acked messages; pub. = the publisher.',
    '',
  );
  const cost = edgeCost(r.scenarios);
  if (cost.length > 0) {
    out.push('What authentication and signed acks cost (secured edge ÷ open edge, adjacent runs paired):');
    out.push(...cost, '');
  }
  for (const n of [...new Set(r.scenarios.map((s) => s.recordsPerMessage))]) {
    const cw = r.scenarios.find(
      (s) => s.consumer === 'chipwatch' && s.edge !== 'open' && s.recordsPerMessage === n,
    );
    const base = r.scenarios.find((s) => s.consumer === 'baseline' && s.recordsPerMessage === n);
    if (cw && base) {
      out.push(
        `chipwatch / naive baseline, ${n} rec/msg: ${fixed(cw.pub.msgPerS / base.pub.msgPerS)}× msg/s ` +
          `(${int(cw.pub.msgPerS)} vs ${int(base.pub.msgPerS)})`,
      );
    }
  }
  out.push('');
  const limit = (r.rates.syncPerS + r.syncEndPerS) / 2;
  out.push(
    `Ed25519 verify (node:crypto, ${r.rates.signingInputBytes} B signing input): sync one core ` +
      `${int(r.rates.syncPerS)}/s at the start, ${int(r.syncEndPerS)}/s at the end; async thread pool ` +
      `(${r.rates.threadPool} threads, ${r.rates.inFlight} in flight) ${int(r.rates.asyncPerS)}/s`,
  );
  const best = r.scenarios.find(
    (s) => s.consumer === 'chipwatch' && s.edge !== 'open' && s.recordsPerMessage === 1,
  );
  if (best) {
    out.push(
      `Ed25519 single-core verify limit: ${int(limit)}/s (mean of start and end); chipwatch reached ` +
        `${fixed((best.pub.msgPerS / limit) * 100)}% of it (${int(best.pub.msgPerS)} msg/s, 1 rec/msg)`,
    );
  }
  out.push(`target ≥ ${int(r.targetMsgPerS)} signed msg/s end to end on 2 cores (for context; not asserted)`);
  const bad = r.scenarios.filter((s) => !s.stored.ok);
  if (bad.length > 0) {
    out.push('', `ERROR: stored rows differ from what was sent in: ${bad.map(scenarioName).join('; ')}`);
  }
  return `${out.join('\n')}\n`;
}
