// A/B of two checkouts on a shared, noisy machine (`npx tsx bench/alternate.ts DIR_A DIR_B [pairs]`, `npm run
// bench:ab`): runs `npx tsx bench/ingest.bench.ts` in A, then B, then A… (`pairs` times each, default 3), so drift and
// other load spread over both, and prints each run's chipwatch figures and the range per checkout. Besides msg/s it
// prints CPU µs per message, from the report's "cores used" table: cores ÷ msg/s is CPU seconds per message, which
// moves far less than msg/s when other processes take the cores. Extra environment (BENCH_MESSAGES, BENCH_BROKER…)
// is passed to both. Every run's full report is kept in the folder BENCH_AB_OUT (default: a temporary folder).
// A report with open-edge rows (the MQTT edge as before issue 12, see bench/ingest.bench.ts) lists "chipwatch open
// edge, N rec/msg" besides "chipwatch, N rec/msg"; rounds ("… #2") of one scenario are averaged per run.
// `--edge open` compares a checkout's open-edge rows under the plain name (e.g. a pre-issue-12 checkout against
// HEAD's old edge: the refactor alone), `--edge secured` drops them; by default every row is shown.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

interface RunFigures {
  label: string;
  run: number;
  startedAt: string;
  /** Per chipwatch scenario (1 and 10 rec/msg). */
  scenarios: Record<string, { msgPerS: number; consumerUsPerMsg: number; publisherUsPerMsg: number }>;
}

const ROW = /^chipwatch( open edge)?, \d+ rec\/msg( #\d+)?$/;

/** Parses the report's two tables: the figures (msg/s) and where the cores went; rounds averaged. */
export function parseReport(text: string, edge?: 'open' | 'secured'): RunFigures['scenarios'] {
  const rounds = new Map<string, RunFigures['scenarios'][string][]>();
  const lines = text.split('\n');
  const num = (s: string | undefined) => Number((s ?? '').replace(/,/g, ''));
  const cells = (l: string) => l.split(/\s{2,}/).map((c) => c.trim());
  const figures = new Map<string, number>();
  const cpuStart = lines.findIndex((l) => l.startsWith('cores used'));
  for (const l of lines.slice(0, cpuStart)) {
    const c = cells(l);
    if (ROW.test(c[0] ?? '') && c.length >= 10) figures.set(c[0]!, num(c[3]));
  }
  for (const l of lines.slice(cpuStart + 2)) {
    const c = cells(l);
    if (!ROW.test(c[0] ?? '')) continue;
    const msgPerS = figures.get(c[0]!) ?? Number.NaN;
    // main thread, other threads, publisher, postgres, mosquitto ('–' when absent).
    const [main, other, publisher, postgres, mosquitto] = c.slice(1, 6).map((x) => (x === '–' ? 0 : num(x)));
    const name = c[0]!.replace(/ #\d+$/, '');
    rounds.set(name, [
      ...(rounds.get(name) ?? []),
      {
        msgPerS,
        consumerUsPerMsg: (((main ?? 0) + (other ?? 0) + (postgres ?? 0) + (mosquitto ?? 0)) / msgPerS) * 1e6,
        publisherUsPerMsg: ((publisher ?? 0) / msgPerS) * 1e6,
      },
    ]);
  }
  const hasOpen = [...rounds.keys()].some((n) => n.includes(' open edge,'));
  const out: RunFigures['scenarios'] = {};
  for (const [name, fs] of rounds) {
    const open = name.includes(' open edge,');
    if (edge === 'secured' && open) continue;
    if (edge === 'open' && hasOpen && !open) continue;
    const mean = (f: (x: (typeof fs)[number]) => number) => fs.reduce((a, x) => a + f(x), 0) / fs.length;
    out[edge === 'open' ? name.replace(' open edge,', ',') : name] = {
      msgPerS: mean((x) => x.msgPerS),
      consumerUsPerMsg: mean((x) => x.consumerUsPerMsg),
      publisherUsPerMsg: mean((x) => x.publisherUsPerMsg),
    };
  }
  return out;
}

function range(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  return `${Math.round(s[0]!)}–${Math.round(s.at(-1)!)} (median ${Math.round(med)})`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const edgeAt = args.indexOf('--edge');
  const edge = edgeAt >= 0 ? args.splice(edgeAt, 2)[1] : undefined;
  if (edge !== undefined && edge !== 'open' && edge !== 'secured')
    throw new Error('--edge must be open or secured');
  const [a, b, pairsArg] = args;
  if (!a || !b) throw new Error('usage: tsx bench/alternate.ts [--edge open|secured] DIR_A DIR_B [pairs]');
  const pairs = Number(pairsArg ?? 3);
  const outDir = process.env.BENCH_AB_OUT ?? mkdtempSync(join(tmpdir(), 'chipwatch-ab-'));
  mkdirSync(outDir, { recursive: true });
  const runs: RunFigures[] = [];
  for (let i = 1; i <= pairs; i++) {
    for (const dir of [a, b]) {
      const label = basename(resolve(dir));
      const startedAt = new Date().toISOString();
      process.stderr.write(`[ab] ${startedAt} run ${i} of ${label}\n`);
      const r = spawnSync('npx', ['tsx', 'bench/ingest.bench.ts'], {
        cwd: dir,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      writeFileSync(join(outDir, `${label}-${i}.out`), r.stdout);
      writeFileSync(join(outDir, `${label}-${i}.err`), r.stderr);
      const scenarios = parseReport(r.stdout, edge);
      runs.push({ label, run: i, startedAt, scenarios });
      process.stderr.write(`[ab]   exit ${r.status}: ${JSON.stringify(scenarios)}\n`);
    }
  }
  const edgeNote = edge
    ? `; --edge ${edge}: ${edge === 'open' ? 'open-edge rows where a report has them' : 'secured rows only'}`
    : '';
  const out: string[] = [`A/B, ${pairs} pairs alternating; reports in ${outDir}${edgeNote}`, ''];
  for (const r of runs) {
    for (const [name, f] of Object.entries(r.scenarios)) {
      out.push(
        `${r.label} #${r.run} ${r.startedAt}  ${name}: ${Math.round(f.msgPerS)} msg/s, chipwatch ` +
          `${Math.round(f.consumerUsPerMsg)} CPU µs/msg, publisher ${Math.round(f.publisherUsPerMsg)} CPU µs/msg`,
      );
    }
  }
  out.push('');
  for (const label of [...new Set(runs.map((r) => r.label))]) {
    const mine = runs.filter((r) => r.label === label);
    for (const name of [...new Set(mine.flatMap((r) => Object.keys(r.scenarios)))]) {
      const fs = mine.map((r) => r.scenarios[name]).filter((f) => f !== undefined);
      out.push(
        `${label}  ${name}: msg/s ${range(fs.map((f) => f.msgPerS))}; chipwatch CPU µs/msg ` +
          `${range(fs.map((f) => f.consumerUsPerMsg))}; publisher CPU µs/msg ${range(fs.map((f) => f.publisherUsPerMsg))}`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
