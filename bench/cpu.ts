// CPU seconds, read from /proc, so each scenario can say where the cores went: this process split into its main
// thread (event loop) and the rest (libuv thread pool, GC helpers), the PostgreSQL server (postmaster and its
// backends), a Mosquitto this process started, and the whole machine (to show what else was running: a shared
// machine makes every figure noisy). Off Linux every figure is NaN.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_S = 100; // USER_HZ on Linux

interface Stat {
  ppid: number;
  cpuS: number;
  /** Time of children already reaped by this process. */
  reapedChildrenS: number;
}

/** Parses /proc/…/stat of a process or thread; undefined when it is gone. */
function readStat(path: string): Stat | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name, which may hold spaces, start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      cpuS: (Number(f[11]) + Number(f[12])) / TICKS_PER_S,
      reapedChildrenS: (Number(f[13]) + Number(f[14])) / TICKS_PER_S,
    };
  } catch {
    return undefined;
  }
}

function processes(): { pid: number; stat: Stat }[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const stat = readStat(`/proc/${name}/stat`);
    return stat ? [{ pid: Number(name), stat }] : [];
  });
}

/** The server whose data folder is `pgDataDir`: postmaster plus every child, live or reaped. */
function postgresCpuS(pgDataDir: string, all: { pid: number; stat: Stat }[]): number {
  const pidFile = join(pgDataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return Number.NaN;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const main = all.find((p) => p.pid === postmaster);
  if (!main) return Number.NaN;
  const children = all.filter((p) => p.stat.ppid === postmaster).reduce((s, p) => s + p.stat.cpuS, 0);
  return main.stat.cpuS + main.stat.reapedChildrenS + children;
}

/** This process's live children named `comm` (a Mosquitto it started); NaN when there is none. */
function childrenCpuS(comm: string, all: { pid: number; stat: Stat }[]): number {
  const mine = all.filter((p) => {
    if (p.stat.ppid !== process.pid) return false;
    try {
      return readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
  return mine.length === 0 ? Number.NaN : mine.reduce((s, p) => s + p.stat.cpuS, 0);
}

/** Busy CPU seconds of the whole machine, every core, since boot (/proc/stat: all but idle and iowait). */
function machineBusyS(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

export interface CpuSnapshot {
  /** This process's main thread: the event loop (chipwatch ingest, pg client, aedes when embedded). */
  mainS: number;
  /** This process's other threads: the libuv pool where chipwatch verifies signatures, GC helpers. */
  otherThreadsS: number;
  postgresS: number;
  mosquittoS: number;
  machineS: number;
}

export function cpuSnapshot(pgDataDir: string): CpuSnapshot {
  const all = processes();
  const usage = process.cpuUsage();
  const selfS = (usage.user + usage.system) / 1e6;
  const mainS = readStat(`/proc/${process.pid}/task/${process.pid}/stat`)?.cpuS ?? Number.NaN;
  return {
    mainS,
    otherThreadsS: selfS - mainS,
    postgresS: postgresCpuS(pgDataDir, all),
    mosquittoS: childrenCpuS('mosquitto', all),
    machineS: machineBusyS(),
  };
}

export function cpuSince(before: CpuSnapshot, pgDataDir: string): CpuSnapshot {
  const now = cpuSnapshot(pgDataDir);
  return {
    mainS: now.mainS - before.mainS,
    otherThreadsS: now.otherThreadsS - before.otherThreadsS,
    postgresS: now.postgresS - before.postgresS,
    mosquittoS: now.mosquittoS - before.mosquittoS,
    machineS: now.machineS - before.machineS,
  };
}
