// The fixes a tracker records along its true course (GNSS noise, speed, battery, temperature, light and tamper
// readings, teleport and frozen-position spoofing), and how they are packed into messages around offline periods.

import { destinationPoint } from '../src/geo/spherical.ts';
import type { LatLon, TransportMode } from '../src/geo/types.ts';
import { DEFAULT_SPEED_KMH, type Journey, type TrueState } from './journey.ts';
import { eventsOf, stateFn } from './plan-events.ts';
import { gaussian, offsetMetres, round } from './route.ts';
import type { Scenario } from './scenario.ts';
import type { TelemetryRecord } from './signer.ts';

const HOUR_MS = 3_600_000;
/** The wire protocol's limit on records per message. */
export const MAX_RECORDS_PER_MESSAGE = 500;
/** Satellite and cellular trackers report hourly at sea, every 15 min in the air and every 5 min on the road. */
export const DEFAULT_REPORT_INTERVAL_S: Record<TransportMode, number> = { sea: 3600, air: 900, road: 300 };

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

export function planTelemetry(
  s: Scenario,
  journey: Journey,
  spanMs: number,
  opts: { noiseM?: number },
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
  const within = <E extends { forH: number }>(list: { atMs: number; e: E }[], ms: number) =>
    list.find((x) => ms >= x.atMs && ms < x.atMs + x.e.forH * HOUR_MS);
  const spoofs = eventsOf(events, 'spoof', journey);
  const synthetic = eventsOf(events, 'synthetic', journey);
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
    const spoofed = within(spoofs, ms);
    if (spoofed) {
      // Pinned to the spoofer's point, give or take a few metres; the receiver believes it stands still.
      pos = offsetMetres(spoofed.e.to, gaussian(random) * noiseM, gaussian(random) * noiseM);
      rec.speedKmh = 0;
    }
    if (within(synthetic, ms)) {
      // What a simulator feeds a tracker: the true position exactly, and figures that never change.
      pos = { lat: st.lat, lon: st.lon };
      rec.speedKmh = round(st.speedKmh, 1);
      rec.hdop = 1;
      rec.satellites = 9;
    }
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
