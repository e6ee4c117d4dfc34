// A scenario played out in advance: every fix the tracker records (with GPS noise, battery, temperature), every
// message it sends (one fix each, or its backlog after an offline period in messages of ≤ 500 fixes), every attack
// and every attestation, as actions timed in ms since the scenario's start. Pure and seeded: the same scenario and
// seed give the same plan, which is what the tests replay.
import { destinationPoint } from '../src/geo/spherical.ts';
import type { LatLon } from '../src/geo/types.ts';
import { buildJourney, type Journey } from './journey.ts';
import { eventsOf, resolveAt, scenarioEndMs, stateFn } from './plan-events.ts';
import { DEFAULT_REPORT_INTERVAL_S, packMessages, planTelemetry } from './plan-telemetry.ts';
import { round, seededRandom } from './route.ts';
import { simulateRttMs } from './rtt.ts';
import type { Scenario, ScenarioSite } from './scenario.ts';
import type { TelemetryRecord } from './signer.ts';

const HOUR_MS = 3_600_000;

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
