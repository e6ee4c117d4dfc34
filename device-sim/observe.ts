// Reads back through the API what chipwatch raised for each instance (alerts, rejections, stored fixes), waits for
// the timer-driven alerts still missing, and judges it all against the scenario's expectations.
import { setTimeout as sleep } from 'node:timers/promises';
import { apiCall, apiList } from './api.ts';
import type { SimClock } from './clock.ts';
import { judge, type ObservedAlert, type ObservedRejection, type Verdict } from './expect.ts';
import { type Instance, type RunOptions, siteIdsOf } from './instance.ts';

const SETTLE_POLL_MS = 2000;

export interface Seen {
  alerts: ObservedAlert[];
  rejections: ObservedRejection[];
}

function belongs(
  inst: Instance,
  a: { shipmentId?: string | null; deviceId: string | null; siteId: string | null },
) {
  const siteIds = new Set(siteIdsOf(inst));
  return (
    (inst.shipmentId !== undefined && a.shipmentId === inst.shipmentId) ||
    (inst.deviceId !== undefined && a.deviceId === inst.deviceId) ||
    (a.siteId !== null && a.siteId !== undefined && siteIds.has(a.siteId))
  );
}

async function observe(o: RunOptions, inst: Instance): Promise<Seen> {
  const q = (k: string, v: string) => `${k}=${encodeURIComponent(v)}&limit=500`;
  const alertPaths = [
    ...(inst.shipmentId ? [`/v1/alerts?${q('shipmentId', inst.shipmentId)}`] : []),
    ...(inst.deviceId ? [`/v1/alerts?${q('deviceId', inst.deviceId)}`] : []),
    ...[...inst.sites.values()].map((s) => `/v1/alerts?${q('siteId', s.id)}`),
  ];
  const rejectionPaths = [
    ...(inst.deviceId ? [`/v1/rejections?${q('deviceId', inst.deviceId)}`] : []),
    ...[...inst.sites.values()].map((s) => `/v1/rejections?${q('siteId', s.id)}`),
  ];
  const alerts = new Map<string, ObservedAlert>();
  for (const p of alertPaths) {
    // Filtered here too: a chipwatch that does not know a filter ignores it and answers every alert.
    for (const a of await apiList<ObservedAlert>(o.apiUrl, o.token, p, 5000))
      if (belongs(inst, a)) alerts.set(a.id, a);
  }
  const rejections: ObservedRejection[] = [];
  for (const p of rejectionPaths) {
    for (const r of await apiList<ObservedRejection>(o.apiUrl, o.token, p, 5000))
      if (belongs(inst, r)) rejections.push(r);
  }
  return { alerts: [...alerts.values()], rejections };
}

async function storedFixes(o: RunOptions, deviceId: string): Promise<number> {
  const items = await apiList<unknown>(
    o.apiUrl,
    o.token,
    `/v1/devices/${encodeURIComponent(deviceId)}/positions?limit=10000`,
  );
  return items.length;
}

/**
 * Alerts raised from attestations carry the sites' real-clock times (see 'attest' in play.ts): map them onto
 * simulated time.
 */
const SITE_ALERT = /^(ATTESTATION_|CHIP_)/;

function verdictOf(clock: SimClock, inst: Instance, seen: Seen, fixes?: number): Verdict {
  const alerts = seen.alerts.map((a) => {
    if (!SITE_ALERT.test(a.type)) return a;
    const wall = Date.parse(a.firstEvidenceAt ?? a.openedAt);
    const sim = clock.simStartMs + (wall - clock.realStartMs) * clock.speedup;
    return { ...a, firstEvidenceAt: new Date(sim).toISOString() };
  });
  return judge({
    expect: inst.scenario.expect,
    allow: inst.scenario.allow,
    alerts,
    rejections: seen.rejections,
    incidentAtMs: inst.baseMs + inst.plan.incidentAtMs,
    ...(fixes === undefined ? {} : { fixes: { sent: inst.sentRecords, stored: fixes } }),
  });
}

/**
 * Every instance's alerts and rejections once they are all in, or once `settleMs` has run out. Checks run in the
 * transaction that stores the fix, so acked means judged; only timers need more time.
 */
export async function observeSettled(o: RunOptions, clock: SimClock, insts: Instance[]): Promise<Seen[]> {
  const deadline = Date.now() + (o.settleMs ?? 30_000);
  const seen = await Promise.all(insts.map((i) => observe(o, i)));
  const waiting = () =>
    insts.flatMap((inst, k) => (verdictOf(clock, inst, seen[k]!).lines.every((l) => l.ok) ? [] : [k]));
  for (let left = waiting(); left.length > 0 && Date.now() < deadline; left = waiting()) {
    // Only what is still missing is asked again: chipwatch rate-limits each token.
    await sleep(SETTLE_POLL_MS);
    for (const k of left) seen[k] = await observe(o, insts[k]!);
  }
  return seen;
}

/** The instance's verdict on what was seen, with the fixes chipwatch stored against those its tracker sent. */
export async function finalVerdict(
  o: RunOptions,
  clock: SimClock,
  inst: Instance,
  seen: Seen,
): Promise<Verdict> {
  const fixes = inst.deviceId ? await storedFixes(o, inst.deviceId) : undefined;
  return verdictOf(clock, inst, seen, fixes);
}

/** Alerts (of this run) chipwatch has raised so far, for the progress line; undefined when the API is busy. */
export async function alertsSoFar(o: RunOptions, insts: Instance[]): Promise<number | undefined> {
  try {
    const res = await apiCall(o.apiUrl, o.token, 'GET', '/v1/alerts?limit=500');
    if (res.status !== 200) return undefined;
    const items = (res.body as { items: ObservedAlert[] }).items;
    return items.filter((a) => insts.some((i) => belongs(i, a))).length;
  } catch {
    return undefined;
  }
}
