// Plays scenarios against a running chipwatch, in order: provision landmarks, sites, trackers and shipments through
// the public API (provision.ts); play every planned action on the simulated clock over MQTT (play.ts); wait for the
// acks; read the alerts and rejections back through the API and judge them against each scenario's expectations
// (observe.ts); report (report.ts).
import { setMaxListeners } from 'node:events';
import { createClock } from './clock.ts';
import { allTrackers, newInstance, type RunOptions } from './instance.ts';
import { finalVerdict, observeSettled } from './observe.ts';
import { play } from './play.ts';
import { provision } from './provision.ts';
import { type InstanceReport, instanceReport, type RunReport, startProgress } from './report.ts';
import { fleetTotals } from './stats.ts';

const HOUR_MS = 3_600_000;

export async function runScenarios(o: RunOptions): Promise<RunReport> {
  const say = o.say ?? (() => {});
  const started = Date.now();
  const insts = o.scenarios.map((s, i) => newInstance(o, i, s));
  // Every instance waits on the same signal.
  if (o.signal) setMaxListeners(insts.length + 10, o.signal);
  say(
    `provisioning ${insts.length} scenario instance(s) through ${o.apiUrl}: ${[...new Set(insts.map((i) => i.name))].join(', ')}`,
  );
  try {
    await provision(o, insts);
    const spanMs = Math.max(...insts.map((i) => i.plan.spanMs));
    const clock = createClock(spanMs, o.speedup, Date.now());
    // Every instance ends with the run, so none sits silent (and "lost") after its last report.
    for (const inst of insts) inst.baseMs = Math.round(clock.simEndMs - inst.plan.spanMs);
    say(
      `playing ${(spanMs / HOUR_MS).toFixed(1)} simulated hours at ${o.speedup}× (about ${Math.ceil(spanMs / o.speedup / 1000)} s)`,
    );
    const trackers = allTrackers(insts);
    const stopProgress = startProgress(o, clock, insts, trackers, spanMs);
    try {
      await Promise.all(insts.map((inst) => play(o, clock, inst)));
      const drainMs = o.drainTimeoutMs ?? 60_000;
      await Promise.all(trackers.map((t) => t.waitAllAcked(drainMs)));
    } finally {
      stopProgress();
    }

    const seen = await observeSettled(o, clock, insts);
    const reports: InstanceReport[] = [];
    for (const [k, inst] of insts.entries()) {
      reports.push(instanceReport(inst, await finalVerdict(o, clock, inst, seen[k]!)));
    }
    const totals = fleetTotals(trackers);
    return {
      ok: reports.every((r) => r.verdict.ok) && totals.pending === 0,
      instances: reports,
      totals,
      wallS: (Date.now() - started) / 1000,
      simulatedH: spanMs / HOUR_MS,
    };
  } finally {
    await Promise.all(allTrackers(insts).map((t) => t.close()));
  }
}
