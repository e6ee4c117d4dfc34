// A scenario played out in advance: every fix the tracker records (with GPS noise, battery, temperature), every
// message it sends (one fix each, or its backlog after an offline period in messages of ≤ 500 fixes), every attack
// and every attestation, as actions timed in ms since the scenario's start. Pure and seeded: the same scenario and
// seed give the same plan, which is what the tests replay.
import { destinationPoint, haversineKm, initialBearingDeg } from '../src/geo/spherical.ts';
import type { LatLon, TransportMode } from '../src/geo/types.ts';
import {
  buildJourney,
  DEFAULT_SPEED_KMH,
  type Journey,
  journeyState,
  legFractionMs,
  type TrueState,
} from './journey.ts';
import { offsetMetres, seededRandom } from './route.ts';
import { simulateRttMs } from './rtt.ts';
import type { At, Scenario, ScenarioEvent, ScenarioSite } from './scenario.ts';
import type { TelemetryRecord } from './signer.ts';

const HOUR_MS = 3_600_000;
/** The wire protocol's limit on records per message. */
export const MAX_RECORDS_PER_MESSAGE = 500;
/** Satellite and cellular trackers report hourly at sea, every 15 min in the air and every 5 min on the road. */
export const DEFAULT_REPORT_INTERVAL_S: Record<TransportMode, number> = { sea: 3600, air: 900, road: 300 };

export type Action =
  | { atMs: number; kind: 'telemetry'; records: TelemetryRecord[] }
  | { atMs: number; kind: 'forge'; records: TelemetryRecord[]; ownKid: boolean }
  | { atMs: number; kind: 'replay'; count: number }
  | { atMs: number; kind: 'clone'; records: TelemetryRecord[] }
  | {
      atMs: number;
      kind: 'attest';
      site: string;
      location: LatLon;
      landmarks: { id: string; rttMs: number }[];
      shipmentChips: boolean;
      extraChips: number;
    };

export interface Plan {
  spanMs: number;
  /** When the scenario's incident begins: time-to-detect is measured from here. */
  incidentAtMs: number;
  journey?: Journey;
  /** The shipment's reportIntervalS to register: the longest of its modes', so no gap is misjudged. */
  reportIntervalS: number;
  /** Genuine fixes recorded (all of them reach chipwatch unless the run is cut short). */
  records: number;
  actions: Action[];
}

export interface PlanOptions {
  seed: number;
  /** Standard deviation of GNSS noise, metres. */
  noiseM?: number;
}

function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

function resolveAt(at: At, journey: Journey | undefined): number {
  if ('hours' in at) return at.hours * HOUR_MS;
  if (!journey) throw new Error('an event timed by leg needs a shipment');
  return legFractionMs(journey, at.leg, at.fraction);
}

interface Timed<E> {
  atMs: number;
  e: E;
}

type EventOf<T extends ScenarioEvent['type']> = Extract<ScenarioEvent, { type: T }>;

function eventsOf<T extends ScenarioEvent['type']>(
  events: ScenarioEvent[],
  type: T,
  journey: Journey | undefined,
): Timed<EventOf<T>>[] {
  return events
    .filter((e): e is EventOf<T> => e.type === type)
    .map((e) => ({ atMs: resolveAt(e.at, journey), e }))
    .sort((a, b) => a.atMs - b.atMs);
}

/** The true state with stops, a diversion and a post-dark shift applied to the planned journey. */
function stateFn(journey: Journey, events: ScenarioEvent[]): (ms: number) => TrueState {
  const stops = eventsOf(events, 'stop', journey);
  const divert = eventsOf(events, 'divert', journey)[0];
  const dark = eventsOf(events, 'dark', journey)[0];
  // A stop freezes journey time: later positions are the planned ones, that much later.
  const warp = (ms: number) => {
    let t = ms;
    for (const s of stops) {
      const d = s.e.forH * HOUR_MS;
      if (ms >= s.atMs + d) t -= d;
      else if (ms >= s.atMs) t -= ms - s.atMs;
    }
    return t;
  };
  const planned = (ms: number): TrueState => {
    const s = journeyState(journey, warp(ms));
    return stops.some((x) => ms >= x.atMs && ms < x.atMs + x.e.forH * HOUR_MS)
      ? { ...s, speedKmh: 0, moving: false }
      : s;
  };
  return (ms: number) => {
    if (divert && ms >= divert.atMs) {
      const start = planned(divert.atMs);
      const speed = divert.e.speedKmh ?? (start.moving ? start.speedKmh : DEFAULT_SPEED_KMH[start.mode]);
      const totalKm = haversineKm(start, divert.e.toward);
      const km = Math.min(totalKm, (speed * (ms - divert.atMs)) / HOUR_MS);
      const bearing = initialBearingDeg(start, divert.e.toward);
      const p = destinationPoint(start, bearing, km);
      const moving = km < totalKm;
      return {
        ...start,
        lat: p.lat,
        lon: p.lon,
        speedKmh: moving ? speed : 0,
        headingDeg: moving ? initialBearingDeg(p, divert.e.toward) : 0,
        moving,
      };
    }
    const s = planned(ms);
    if (dark && ms >= dark.atMs + dark.e.forH * HOUR_MS && dark.e.shiftKm > 0) {
      // Reappears beside the course it held when it went dark, and keeps that offset.
      const course = planned(dark.atMs).headingDeg;
      const p = destinationPoint(s, course + (dark.e.side === 'left' ? -90 : 90), dark.e.shiftKm);
      return { ...s, lat: p.lat, lon: p.lon };
    }
    return s;
  };
}

function scenarioEndMs(s: Scenario, journey: Journey | undefined): number {
  if (s.durationH !== undefined) return s.durationH * HOUR_MS;
  let end = journey
    ? journey.endMs + eventsOf(s.events, 'stop', journey).reduce((h, x) => h + x.e.forH, 0) * HOUR_MS
    : 0;
  const divert = journey ? eventsOf(s.events, 'divert', journey)[0] : undefined;
  const dark = journey ? eventsOf(s.events, 'dark', journey)[0] : undefined;
  if (divert) end = divert.atMs + divert.e.forH * HOUR_MS;
  else if (dark) end = dark.atMs + (dark.e.forH + dark.e.afterH) * HOUR_MS;
  for (const site of s.sites ?? []) {
    if (site.untilH !== undefined) end = Math.max(end, site.untilH * HOUR_MS);
  }
  if (!journey && end === 0) end = 24 * HOUR_MS;
  return end;
}

function temperatureC(state: TrueState, ms: number, random: () => number): number {
  const dayPhase = Math.sin((2 * Math.PI * (ms / HOUR_MS - 9)) / 24);
  // A cargo hold at cruise altitude is cool; a container at sea follows the water; a truck the air outside.
  const base =
    state.mode === 'air' && state.altM > 3000
      ? 8
      : state.mode === 'sea'
        ? 24 + 2 * dayPhase
        : 18 + 6 * dayPhase;
  return round(base + 0.4 * gaussian(random), 1);
}

function inWindows(windows: [number, number][], ms: number): [number, number] | undefined {
  return windows.find(([a, b]) => ms >= a && ms < b);
}

function planTelemetry(
  s: Scenario,
  journey: Journey,
  spanMs: number,
  opts: PlanOptions,
  random: () => number,
) {
  const sh = s.shipment!;
  const events = s.events;
  const state = stateFn(journey, events);
  const intervalS = (m: TransportMode) => sh.reportIntervalS?.[m] ?? DEFAULT_REPORT_INTERVAL_S[m];
  const noiseM = opts.noiseM ?? 5;
  const dark = eventsOf(events, 'dark', journey).map((d): [number, number] => [
    d.atMs,
    d.atMs + d.e.forH * HOUR_MS,
  ]);
  const offline: [number, number][] = [
    ...eventsOf(events, 'offline', journey).map((d): [number, number] => [
      d.atMs,
      d.atMs + d.e.forH * HOUR_MS,
    ]),
    ...journey.motions.filter((m) => m.offline).map((m): [number, number] => [m.startMs, m.endMs]),
  ];
  const lights = eventsOf(events, 'light', journey);
  const pending = {
    teleport: eventsOf(events, 'teleport', journey),
    tamper: eventsOf(events, 'tamper', journey),
    frozen: eventsOf(events, 'frozen', journey),
  };
  let frozenLeft = 0;
  let frozenAt: LatLon | undefined;

  const records: TelemetryRecord[] = [];
  for (let ms = 0; ms <= spanMs; ) {
    const st = state(ms);
    const next = ms + intervalS(st.mode) * 1000;
    if (inWindows(dark, ms)) {
      ms = next;
      continue;
    }
    let pos: LatLon = offsetMetres(st, gaussian(random) * noiseM, gaussian(random) * noiseM);
    const rec: TelemetryRecord = {
      ts: ms,
      lat: 0,
      lon: 0,
      altM: st.altM,
      speedKmh: st.moving ? round(Math.max(0, st.speedKmh * (1 + 0.02 * gaussian(random))), 1) : 0,
      headingDeg: round(st.headingDeg, 1) % 360,
      hdop: round(0.7 + 0.5 * random(), 1),
      satellites: 7 + Math.floor(6 * random()),
      batteryPct: round(Math.max(1, 100 - (0.04 * ms) / HOUR_MS), 1),
      temperatureC: temperatureC(st, ms, random),
      lightLux: 0,
      tamper: false,
    };
    const teleport = pending.teleport[0];
    if (teleport && ms >= teleport.atMs) {
      pending.teleport.shift();
      pos = destinationPoint(pos, teleport.e.bearingDeg, teleport.e.km);
    }
    const frozen = pending.frozen[0];
    if (frozen && ms >= frozen.atMs) {
      pending.frozen.shift();
      frozenLeft = frozen.e.fixes;
      frozenAt = undefined;
    }
    if (frozenLeft > 0) {
      frozenAt ??= pos;
      pos = frozenAt;
      frozenLeft--;
      // A replayed GNSS track still claims motion: that is what gives it away.
      if (!(rec.speedKmh! > 5)) rec.speedKmh = round(DEFAULT_SPEED_KMH[st.mode] * 0.8, 1);
    }
    const tamper = pending.tamper[0];
    if (tamper && ms >= tamper.atMs) {
      pending.tamper.shift();
      rec.tamper = true;
    }
    const light = lights.find((l) => ms >= l.atMs && ms < l.atMs + l.e.forH * HOUR_MS);
    if (light) rec.lightLux = round(light.e.lux * (0.8 + 0.4 * random()), 0);
    rec.lat = round(pos.lat, 6);
    rec.lon = round(pos.lon, 6);
    records.push(rec);
    ms = next;
  }
  return { records, offline };
}

/** One message per fix while online; an offline period's fixes go out when it ends, ≤ 500 per message. */
export function packMessages(
  records: TelemetryRecord[],
  offline: [number, number][],
  spanMs: number,
): { atMs: number; records: TelemetryRecord[] }[] {
  const out: { atMs: number; records: TelemetryRecord[] }[] = [];
  let held: TelemetryRecord[] = [];
  let heldUntil = 0;
  const flush = () => {
    for (let i = 0; i < held.length; i += MAX_RECORDS_PER_MESSAGE) {
      out.push({ atMs: heldUntil, records: held.slice(i, i + MAX_RECORDS_PER_MESSAGE) });
    }
    held = [];
  };
  for (const r of records) {
    if (held.length > 0 && r.ts >= heldUntil) flush();
    const w = inWindows(offline, r.ts);
    if (w) {
      held.push(r);
      heldUntil = Math.min(Math.max(heldUntil, w[1]), spanMs);
    } else {
      out.push({ atMs: r.ts, records: [r] });
    }
  }
  if (held.length > 0) flush();
  return out;
}

function attacks(s: Scenario, journey: Journey, plannedAt: (ms: number) => LatLon): Action[] {
  const fake = (ms: number, p: LatLon, i: number): TelemetryRecord => ({
    ts: ms - i * 60_000,
    lat: round(p.lat, 6),
    lon: round(p.lon, 6),
    speedKmh: 0,
    satellites: 9,
    hdop: 0.9,
  });
  const dest = journey.dwells.at(-1)?.at ?? plannedAt(journey.endMs);
  const out: Action[] = [];
  for (const { atMs, e } of eventsOf(s.events, 'forge', journey)) {
    // The forger claims the shipment already reached its destination.
    out.push({
      atMs,
      kind: 'forge',
      records: Array.from({ length: e.count }, (_, i) => fake(atMs, dest, i)),
      ownKid: e.kid === 'own',
    });
  }
  for (const { atMs, e } of eventsOf(s.events, 'replay', journey))
    out.push({ atMs, kind: 'replay', count: e.count });
  for (const { atMs, e } of eventsOf(s.events, 'clone', journey)) {
    const here = plannedAt(atMs);
    const away = destinationPoint(here, 45, 40);
    out.push({
      atMs,
      kind: 'clone',
      records: Array.from({ length: e.count }, (_, i) => fake(atMs, away, i)),
    });
  }
  return out;
}

function attestations(
  site: ScenarioSite,
  spanMs: number,
  arrivalMs: number | undefined,
  random: () => number,
): Action[] {
  const out: Action[] = [];
  const from = (site.fromH ?? 0) * HOUR_MS;
  const until = Math.min(spanMs, (site.untilH ?? Number.POSITIVE_INFINITY) * HOUR_MS);
  const really = site.actualLocation ?? { lat: site.lat, lon: site.lon };
  const claimed = site.claimedLocation ?? { lat: site.lat, lon: site.lon };
  for (let ms = from; ms <= until; ms += site.attestEveryH * HOUR_MS) {
    const shipmentChips =
      site.chips.shipment === 'always' ||
      (site.chips.shipment === 'afterArrival' && arrivalMs !== undefined && ms >= arrivalMs);
    out.push({
      atMs: ms,
      kind: 'attest',
      site: site.key,
      location: claimed,
      landmarks: site.landmarks.map((l) => ({ id: l.id, rttMs: simulateRttMs(really, l, { random }) })),
      shipmentChips,
      extraChips: site.chips.extra,
    });
  }
  return out;
}

export function planScenario(s: Scenario, opts: PlanOptions): Plan {
  const random = seededRandom(opts.seed);
  const journey = s.shipment ? buildJourney(s.shipment) : undefined;
  const spanMs = Math.round(scenarioEndMs(s, journey));
  const actions: Action[] = [];
  let records = 0;
  let reportIntervalS = 0;
  if (journey && s.shipment) {
    const t = planTelemetry(s, journey, spanMs, opts, random);
    records = t.records.length;
    for (const m of packMessages(t.records, t.offline, spanMs)) actions.push({ kind: 'telemetry', ...m });
    const at = stateFn(journey, s.events);
    actions.push(...attacks(s, journey, at));
    const modes = new Set(journey.motions.map((m) => m.mode));
    reportIntervalS = Math.max(
      ...[...modes].map((m) => s.shipment!.reportIntervalS?.[m] ?? DEFAULT_REPORT_INTERVAL_S[m]),
    );
  }
  // Chips count as delivered once the last leg ends: the next fix lies inside the destination radius.
  const arrivalMs = journey?.motions.at(-1)?.endMs;
  for (const site of s.sites ?? []) actions.push(...attestations(site, spanMs, arrivalMs, random));
  // Stable: a flush and an attack at the same instant keep the order written above.
  actions.sort((a, b) => a.atMs - b.atMs);
  const firstEvent = s.events.map((e) => resolveAt(e.at, journey)).sort((a, b) => a - b)[0];
  const incidentAtMs = s.incidentAt ? resolveAt(s.incidentAt, journey) : (firstEvent ?? 0);
  return { spanMs, incidentAtMs, ...(journey ? { journey } : {}), reportIntervalS, records, actions };
}
