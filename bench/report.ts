// The final figures as plain-text tables (stdout): one row per scenario, where the cores went, then ratios and
// context lines.
import { availableParallelism } from 'node:os';
import type { IngestInternals } from './chipwatch-metrics.ts';
import type { CpuSnapshot } from './cpu.ts';
import type { PublisherResult } from './publisher.ts';
import type { VerifyRates } from './verify-rate.ts';

export interface ScenarioResult {
  consumer: 'chipwatch' | 'baseline';
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
  connections: number;
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

export function scenarioName(s: Pick<ScenarioResult, 'consumer' | 'recordsPerMessage'>): string {
  return `${s.consumer}, ${s.recordsPerMessage} rec/msg`;
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
      ];
    }),
  );
}

/** What other processes used meanwhile: the machine's busy time less everything counted in the row. */
function restOfMachineS(c: ScenarioResult['cpu']): number {
  const ours = [c.mainS, c.otherThreadsS, c.publisherS, c.postgresS, c.mosquittoS].filter(Number.isFinite);
  return Math.max(0, c.machineS - ours.reduce((a, b) => a + b, 0));
}

export function renderReport(r: Report): string {
  const out: string[] = [''];
  out.push(
    `chipwatch ingest benchmark — ${r.devices} devices, each on its own MQTT connection with its own password, acks verified, window ${r.window} ` +
      `unacked messages, QoS 1, ${r.broker} + ${r.database}, ` +
      `${availableParallelism()} cores; chipwatch ${r.tunables}`,
  );
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
  out.push('at a time, so near 100% means the commit chain is the wall).', '');
  for (const n of [...new Set(r.scenarios.map((s) => s.recordsPerMessage))]) {
    const cw = r.scenarios.find((s) => s.consumer === 'chipwatch' && s.recordsPerMessage === n);
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
  const best = r.scenarios.find((s) => s.consumer === 'chipwatch' && s.recordsPerMessage === 1);
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
