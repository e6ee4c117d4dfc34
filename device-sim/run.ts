// Plays scenarios against a running chipwatch: provisions landmarks, sites, trackers and shipments through the
// public API, plays every planned action on the simulated clock over MQTT, waits for the acks, then reads the alerts
// and rejections back through the API and judges them against each scenario's expectations.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiCall, apiCreate, apiList } from './api.ts';
import { createClock, type SimClock, simNow } from './clock.ts';
import { judge, type ObservedAlert, type ObservedRejection, renderVerdict, type Verdict } from './expect.ts';
import { routeLegs } from './journey.ts';
import { type DeviceAlg, type DeviceKey, generateDeviceKey } from './keys.ts';
import { type Action, type Plan, planScenario } from './plan.ts';
import type { NamedScenario, Scenario } from './scenario.ts';
import { buildTelemetry, signCompactJws, type TelemetryRecord } from './signer.ts';
import { type FleetTotals, fleetTotals } from './stats.ts';
import { Tracker } from './tracker.ts';

const HOUR_MS = 3_600_000;
/** A tracker with this many unacked messages waits: a fast simulation must not outrun chipwatch without bound. */
const MAX_PENDING_PER_TRACKER = 500;
/** Actions played back to back before yielding, so acks are read while a burst is due. */
const YIELD_EVERY = 100;
/** The server's upper bound on gapIntervals (see src/checks/params.ts). */
const MAX_GAP_INTERVALS = 100;
/** Scaled site thresholds stay above event-loop and batching delays. */
const MIN_SITE_THRESHOLD_S = 5;
const SETTLE_POLL_MS = 2000;

export interface RunOptions {
  apiUrl: string;
  mqttUrl: string;
  token: string;
  topicPrefix?: string;
  speedup: number;
  /** One entry per simulated shipment (and its sites): the same scenario may appear several times. */
  scenarios: NamedScenario[];
  idPrefix: string;
  alg?: DeviceAlg;
  seed?: number;
  /** Progress lines (stderr in the CLI). */
  say?: (line: string) => void;
  progressEveryMs?: number;
  drainTimeoutMs?: number;
  /** How long to wait for timer-driven alerts (SIGNAL_LOST, CHIP_MISSING) after the last ack. */
  settleMs?: number;
  /** Set to stop early (Ctrl-C): actions stop, acks are still awaited. */
  signal?: AbortSignal;
}

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

interface Instance {
  name: string;
  nn: string;
  scenario: Scenario;
  plan: Plan;
  baseMs: number;
  deviceId?: string;
  shipmentId?: string;
  key?: DeviceKey;
  tracker?: Tracker;
  chips: string[];
  sites: Map<string, { id: string; key: DeviceKey; tracker: Tracker }>;
  sentRecords: number;
}

function ids(o: RunOptions, i: number, ns: NamedScenario): Instance {
  const nn = String(i + 1).padStart(2, '0');
  const sh = ns.scenario.shipment;
  const plan = planScenario(ns.scenario, { seed: (o.seed ?? 1) * 1000 + i });
  const base = `${o.idPrefix}-${nn}`;
  return {
    name: ns.name,
    nn,
    scenario: ns.scenario,
    plan,
    baseMs: 0,
    ...(sh ? { deviceId: `${base}-trk`, shipmentId: `${base}-${ns.name}` } : {}),
    chips: Array.from({ length: sh?.chips ?? 0 }, (_, k) => `${base}-GPU-${String(k + 1).padStart(4, '0')}`),
    sites: new Map(),
    sentRecords: 0,
  };
}

/**
 * How a compressed timeline is registered so that chipwatch judges it fairly. Its SIGNAL_LOST timer compares the
 * last fix with chipwatch's own clock, and the simulated clock runs behind that by up to the scenario's span; so,
 * at a speed-up, silence is judged over the span: gapIntervals × reportIntervalS ≥ span. gapIntervals stops at 100,
 * after which the registered interval grows instead (only the timer and the gap check read it). A scenario that
 * sets gapIntervals itself (one that goes dark on purpose) is registered as written.
 */
export function registration(
  s: Scenario,
  plan: Plan,
  speedup: number,
): { params: Record<string, number>; reportIntervalS: number } {
  const params = { ...(s.shipment?.params ?? {}) };
  const reportIntervalS = plan.reportIntervalS;
  if (speedup <= 1 || params.gapIntervals !== undefined || reportIntervalS === 0)
    return { params, reportIntervalS };
  const spanS = plan.spanMs / 1000;
  const needed = Math.ceil(spanS / reportIntervalS) + 1;
  if (needed <= 3) return { params, reportIntervalS };
  params.gapIntervals = Math.min(MAX_GAP_INTERVALS, needed);
  const widened = Math.max(reportIntervalS, Math.ceil(spanS / (MAX_GAP_INTERVALS - 1)));
  return { params, reportIntervalS: widened };
}

function shipmentBody(inst: Instance, speedup: number): Record<string, unknown> {
  const sh = inst.scenario.shipment!;
  const journey = inst.plan.journey!;
  const longest = [...journey.motions].sort((a, b) => b.lengthKm - a.lengthKm)[0]!;
  const last = sh.legs.at(-1)!.to;
  const destination = sh.destinationSite
    ? { siteId: inst.sites.get(sh.destinationSite)!.id }
    : { ...last, radiusKm: last.radiusKm ?? 25 };
  const { params, reportIntervalS } = registration(inst.scenario, inst.plan, speedup);
  const body: Record<string, unknown> = {
    id: inst.shipmentId,
    reference: `device-sim ${inst.name} #${inst.nn}`,
    deviceId: inst.deviceId,
    mode: longest.mode,
    origin: { ...sh.origin, radiusKm: sh.origin.radiusKm ?? 25 },
    destination,
    route: { legs: routeLegs(journey) },
    reportIntervalS,
    chips: inst.chips,
    plannedStops: journey.dwells
      .filter((d) => d.transfer)
      .map((d) => ({
        ...(d.at.name ? { name: d.at.name } : {}),
        lat: d.at.lat,
        lon: d.at.lon,
        radiusKm: 25,
      })),
    params,
    ...(sh.corridorKm === undefined ? {} : { corridorKm: sh.corridorKm }),
    ...(sh.restrictedCountries ? { restrictedCountries: sh.restrictedCountries } : {}),
    ...(sh.licenses ? { licenses: sh.licenses } : {}),
  };
  return body;
}

async function provision(o: RunOptions, insts: Instance[]): Promise<void> {
  const landmarks = new Map<string, { id: string; lat: number; lon: number }>();
  for (const inst of insts)
    for (const s of inst.scenario.sites ?? []) for (const l of s.landmarks) landmarks.set(l.id, l);
  for (const l of landmarks.values()) {
    await apiCreate(
      o.apiUrl,
      o.token,
      '/v1/landmarks',
      { id: `${o.idPrefix}-${l.id}`, lat: l.lat, lon: l.lon },
      `landmark ${l.id}`,
    );
  }
  const alg = o.alg ?? 'EdDSA';
  const trackers: Tracker[] = [];
  const tracker = (id: string, key: DeviceKey, subject: 'devices' | 'sites') => {
    const t = new Tracker({
      deviceId: id,
      key,
      mqttUrl: o.mqttUrl,
      subject,
      ...(o.topicPrefix ? { topicPrefix: o.topicPrefix } : {}),
    });
    trackers.push(t);
    return t;
  };
  for (const inst of insts) {
    for (const s of inst.scenario.sites ?? []) {
      const id = `${o.idPrefix}-${inst.nn}-${s.key}`;
      const key = generateDeviceKey(alg);
      inst.sites.set(s.key, { id, key, tracker: tracker(id, key, 'sites') });
    }
    if (inst.deviceId) {
      inst.key = generateDeviceKey(inst.scenario.shipment?.alg ?? alg);
      inst.tracker = tracker(inst.deviceId, inst.key, 'devices');
    }
  }
  // Broker first: registering what then cannot publish would only leave litter behind.
  await Promise.all(trackers.map((t) => t.waitConnected(15_000)));
  for (const inst of insts) {
    for (const s of inst.scenario.sites ?? []) {
      const site = inst.sites.get(s.key)!;
      await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/sites',
        {
          id: site.id,
          name: `${s.name} (${inst.nn})`,
          ...(s.endUser ? { endUser: s.endUser } : {}),
          lat: s.lat,
          lon: s.lon,
          radiusKm: s.radiusKm,
          ...(s.country ? { country: s.country } : {}),
          ...(s.params ? { params: siteParamsFor(s.params, o.speedup) } : {}),
          publicKeyJwk: site.key.publicJwk,
        },
        `site ${site.id}`,
      );
    }
    if (inst.deviceId) {
      await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/devices',
        { id: inst.deviceId, publicKeyJwk: inst.key!.publicJwk },
        `device ${inst.deviceId}`,
      );
      await apiCreate(
        o.apiUrl,
        o.token,
        '/v1/shipments',
        shipmentBody(inst, o.speedup),
        `shipment ${inst.shipmentId}`,
      );
    }
  }
}

/** Site thresholds are judged on the real clock (see 'attest'): compressed by the speed-up, never below 5 s. */
export function siteParamsFor(params: Record<string, number>, speedup: number): Record<string, number> {
  const out = { ...params };
  for (const k of ['siteSilentAfterS', 'chipMissingAfterS']) {
    if (out[k] !== undefined) out[k] = Math.max(MIN_SITE_THRESHOLD_S, out[k] / speedup);
  }
  return out;
}

function allTrackers(insts: Instance[]): Tracker[] {
  return insts.flatMap((i) => [
    ...(i.tracker ? [i.tracker] : []),
    ...[...i.sites.values()].map((s) => s.tracker),
  ]);
}

async function waitUntil(clock: SimClock, simMs: number, signal?: AbortSignal): Promise<void> {
  const realAt = clock.realStartMs + (simMs - clock.simStartMs) / clock.speedup;
  const waitMs = realAt - Date.now();
  if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => {});
}

async function execute(o: RunOptions, inst: Instance, a: Action, simAt: number): Promise<void> {
  const t = inst.tracker;
  const shift = (r: TelemetryRecord) => ({ ...r, ts: Math.round(inst.baseMs + r.ts) });
  switch (a.kind) {
    case 'telemetry': {
      while (t!.pendingCount >= MAX_PENDING_PER_TRACKER) await sleep(20);
      t!.send(a.records.map(shift), simAt);
      inst.sentRecords += a.records.length;
      return;
    }
    case 'forge': {
      // Signed with the attacker's own key but naming the tracker's kid: only the signature can tell.
      const forger = generateDeviceKey(inst.key!.alg);
      for (const r of a.records) {
        const payload = buildTelemetry(inst.deviceId!, t!.nextSeq, [shift(r)], simAt);
        const kid = a.ownKid ? forger.kid : inst.key!.kid;
        await t!.sendRaw('telemetry', signCompactJws(payload, { ...forger, kid }));
      }
      return;
    }
    case 'replay':
    case 'clone': {
      // Only acked messages: a clone racing the genuine message for a seq would make the genuine one the replay.
      await t!.waitAllAcked(60_000);
      const captured = t!.recent.slice(-(a.kind === 'replay' ? a.count : a.records.length));
      for (const [k, m] of captured.entries()) {
        const jws =
          a.kind === 'replay'
            ? m.jws
            : signCompactJws(buildTelemetry(inst.deviceId!, m.seq, [shift(a.records[k]!)], simAt), inst.key!);
        await t!.sendRaw('telemetry', jws);
      }
      return;
    }
    case 'attest': {
      const site = inst.sites.get(a.site)!;
      // Sites attest on the real clock, not the simulated one: chipwatch times site silence against its own clock,
      // and a simulated clock running hours behind would look silent from the first attestation. Real time is
      // always later than simulated time, so an attestation still follows the arrival it was scheduled after.
      const extra = Array.from(
        { length: a.extraChips },
        (_, k) => `${site.id}-X-${String(k + 1).padStart(4, '0')}`,
      );
      site.tracker.sendAttestation(
        {
          location: a.location,
          chips: [...(a.shipmentChips ? inst.chips : []), ...extra],
          landmarks: a.landmarks.map((l) => ({ landmarkId: `${o.idPrefix}-${l.id}`, rttMs: l.rttMs })),
        },
        Date.now(),
      );
      return;
    }
  }
}

async function play(o: RunOptions, clock: SimClock, inst: Instance): Promise<void> {
  let n = 0;
  for (const a of inst.plan.actions) {
    if (o.signal?.aborted) return;
    // The wire protocol's times are whole milliseconds.
    const simAt = Math.round(inst.baseMs + a.atMs);
    await waitUntil(clock, simAt, o.signal);
    if (o.signal?.aborted) return;
    await execute(o, inst, a, simAt);
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  }
}

function belongs(
  inst: Instance,
  a: { shipmentId?: string | null; deviceId: string | null; siteId: string | null },
) {
  const siteIds = new Set([...inst.sites.values()].map((s) => s.id));
  return (
    (inst.shipmentId !== undefined && a.shipmentId === inst.shipmentId) ||
    (inst.deviceId !== undefined && a.deviceId === inst.deviceId) ||
    (a.siteId !== null && a.siteId !== undefined && siteIds.has(a.siteId))
  );
}

async function observe(o: RunOptions, inst: Instance) {
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

/** Alerts raised from attestations carry the sites' real-clock times (see 'attest'): map them onto simulated time. */
const SITE_ALERT = /^(ATTESTATION_|CHIP_)/;

function verdictOf(
  clock: SimClock,
  inst: Instance,
  seen: { alerts: ObservedAlert[]; rejections: ObservedRejection[] },
  fixes?: number,
) {
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

/** Alerts (of this run) chipwatch has raised so far, for the progress line; undefined when the API is busy. */
async function alertsSoFar(o: RunOptions, insts: Instance[]): Promise<number | undefined> {
  try {
    const res = await apiCall(o.apiUrl, o.token, 'GET', '/v1/alerts?limit=500');
    if (res.status !== 200) return undefined;
    const items = (res.body as { items: ObservedAlert[] }).items;
    return items.filter((a) => insts.some((i) => belongs(i, a))).length;
  } catch {
    return undefined;
  }
}

export async function runScenarios(o: RunOptions): Promise<RunReport> {
  const say = o.say ?? (() => {});
  const started = Date.now();
  const insts = o.scenarios.map((s, i) => ids(o, i, s));
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
    try {
      await Promise.all(insts.map((inst) => play(o, clock, inst)));
      const drainMs = o.drainTimeoutMs ?? 60_000;
      await Promise.all(trackers.map((t) => t.waitAllAcked(drainMs)));
    } finally {
      clearInterval(progress);
    }

    // Checks run in the transaction that stores the fix, so acked means judged; only timers need more time.
    const deadline = Date.now() + (o.settleMs ?? 30_000);
    const seen = await Promise.all(insts.map((i) => observe(o, i)));
    const waiting = () =>
      insts.flatMap((inst, k) => (verdictOf(clock, inst, seen[k]!).lines.every((l) => l.ok) ? [] : [k]));
    for (let left = waiting(); left.length > 0 && Date.now() < deadline; left = waiting()) {
      // Only what is still missing is asked again: chipwatch rate-limits each token.
      await sleep(SETTLE_POLL_MS);
      for (const k of left) seen[k] = await observe(o, insts[k]!);
    }
    const reports: InstanceReport[] = [];
    for (const [k, inst] of insts.entries()) {
      const fixes = inst.deviceId ? await storedFixes(o, inst.deviceId) : undefined;
      const verdict = verdictOf(clock, inst, seen[k]!, fixes);
      reports.push({
        name: inst.name,
        title: `${inst.name} #${inst.nn}${inst.shipmentId ? ` shipment ${inst.shipmentId}` : ''}${inst.sites.size ? ` site(s) ${[...inst.sites.values()].map((s) => s.id).join(', ')}` : ''}`,
        ...(inst.shipmentId ? { shipmentId: inst.shipmentId } : {}),
        ...(inst.deviceId ? { deviceId: inst.deviceId } : {}),
        siteIds: [...inst.sites.values()].map((s) => s.id),
        incidentAt: new Date(inst.baseMs + inst.plan.incidentAtMs).toISOString(),
        verdict,
      });
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
