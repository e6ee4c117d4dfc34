// What a scenario run reports: the progress line while it plays, one verdict per instance, and the summary at the end.
import { type SimClock, simNow } from './clock.ts';
import { renderVerdict, type Verdict } from './expect.ts';
import { type Instance, type RunOptions, siteIdsOf } from './instance.ts';
import { alertsSoFar } from './observe.ts';
import { type FleetTotals, fleetTotals } from './stats.ts';
import type { Tracker } from './tracker.ts';

export interface InstanceReport {
  name: string;
  title: string;
  shipmentId?: string;
  deviceId?: string;
  siteIds: string[];
  incidentAt: string;
  verdict: Verdict;
}

export interface RunReport {
  ok: boolean;
  instances: InstanceReport[];
  totals: FleetTotals;
  wallS: number;
  simulatedH: number;
}

/**
 * Says a progress line every `progressEveryMs` (simulated time, share played, message counts, alerts so far) until
 * the returned function is called.
 */
export function startProgress(
  o: RunOptions,
  clock: SimClock,
  insts: Instance[],
  trackers: Tracker[],
  spanMs: number,
): () => void {
  const say = o.say ?? (() => {});
  let alertsSeen: number | undefined;
  let polling = false;
  const progress = setInterval(() => {
    const t = fleetTotals(trackers);
    const now = simNow(clock, Date.now());
    const pct = Math.round(((now - clock.simStartMs) / spanMs) * 100);
    say(
      `[${new Date(now).toISOString().slice(0, 16)}Z ${String(pct).padStart(3)}%] sent ${t.sent}  acked ${t.acked}  pending ${t.pending}  resent ${t.resent}  alerts ${alertsSeen ?? '…'}`,
    );
    if (!polling) {
      polling = true;
      void alertsSoFar(o, insts).then((n) => {
        alertsSeen = n ?? alertsSeen;
        polling = false;
      });
    }
  }, o.progressEveryMs ?? 2000);
  return () => clearInterval(progress);
}

export function instanceReport(inst: Instance, verdict: Verdict): InstanceReport {
  const siteIds = siteIdsOf(inst);
  return {
    name: inst.name,
    title: `${inst.name} #${inst.nn}${inst.shipmentId ? ` shipment ${inst.shipmentId}` : ''}${inst.sites.size ? ` site(s) ${siteIds.join(', ')}` : ''}`,
    ...(inst.shipmentId ? { shipmentId: inst.shipmentId } : {}),
    ...(inst.deviceId ? { deviceId: inst.deviceId } : {}),
    siteIds,
    incidentAt: new Date(inst.baseMs + inst.plan.incidentAtMs).toISOString(),
    verdict,
  };
}

/** The end-of-run summary: one block per instance, then the totals. */
export function renderReport(r: RunReport): string {
  const lines = r.instances.flatMap((i) => renderVerdict(i.title, i.verdict));
  const failed = r.instances.filter((i) => !i.verdict.ok).length;
  lines.push(
    '',
    `${r.instances.length - failed} of ${r.instances.length} scenario instance(s) passed; ${r.simulatedH.toFixed(1)} simulated hours in ${r.wallS.toFixed(1)} s`,
    `messages sent ${r.totals.sent}  acked ${r.totals.acked}  resent ${r.totals.resent}  unacked ${r.totals.pending}`,
  );
  return `${lines.join('\n')}\n`;
}
