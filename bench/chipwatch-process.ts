// chipwatch as production runs it: `src/main.ts` in a process of its own, configured by environment only. The bench
// starts one per ingest worker, waits for its "chipwatch running" log line, reads its CPU time from /proc, and
// stops it with SIGTERM (it commits its in-flight batch first).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICKS_PER_S = 100; // USER_HZ on Linux

export interface ChipwatchProcess {
  label: string;
  pid: number;
  /** CPU seconds of the whole process (every thread) so far; NaN off Linux or once it is gone. */
  cpuS(): number;
  stop(): Promise<void>;
}

/** CPU seconds (user + system, all threads) of a live process, from /proc/<pid>/stat. */
export function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/**
 * Spawns `node --import tsx src/main.ts` with `env` on top of this process's PATH and HOME only (nothing else of the
 * bench's environment leaks in), and resolves once it logged that it runs. Its warnings and errors go to stderr.
 */
export async function startChipwatchProcess(
  label: string,
  env: Record<string, string>,
  say: (line: string) => void,
): Promise<ChipwatchProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (line: string) => {
    tail = `${tail}${line}\n`.slice(-4000);
  };
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      let entry: { level?: number; msg?: string };
      try {
        entry = JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        return;
      }
      if (entry.msg === 'chipwatch running; Ctrl-C to stop') resolve();
      else if ((entry.level ?? 0) >= 40) say(`[${label}] ${line.slice(0, 400)}`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      keep(line);
      say(`[${label} stderr] ${line}`);
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`${label} exited with ${signal ?? code} before it ran:\n${tail}`)),
    );
    child.once('error', reject);
  });
  await ready;
  const pid = child.pid!;
  let exited = child.exitCode !== null;
  child.once('exit', () => {
    exited = true;
  });
  return {
    label,
    pid,
    cpuS: () => processCpuS(pid),
    stop: () =>
      exited
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
  };
}
