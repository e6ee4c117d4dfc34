// When a scenario's events fall (hours from the start, or a fraction of a leg), how long the scenario runs, and where
// its events (stops, a diversion, a dark period with a shift) put the tracker against the planned journey.
import { destinationPoint, haversineKm, initialBearingDeg } from '../src/geo/spherical.ts';
import {
  AIR,
  DEFAULT_SPEED_KMH,
  type Journey,
  journeyState,
  legFractionMs,
  type TrueState,
} from './journey.ts';
import type { At, Scenario, ScenarioEvent } from './scenario.ts';

const HOUR_MS = 3_600_000;

export function resolveAt(at: At, journey: Journey | undefined): number {
  if ('hours' in at) return at.hours * HOUR_MS;
  if (!journey) throw new Error('an event timed by leg needs a shipment');
  return legFractionMs(journey, at.leg, at.fraction);
}

export interface Timed<E> {
  atMs: number;
  e: E;
}

type EventOf<T extends ScenarioEvent['type']> = Extract<ScenarioEvent, { type: T }>;

export function eventsOf<T extends ScenarioEvent['type']>(
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
export function stateFn(journey: Journey, events: ScenarioEvent[]): (ms: number) => TrueState {
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
    const stop = stops.find((x) => ms >= x.atMs && ms < x.atMs + x.e.forH * HOUR_MS);
    if (!stop) return s;
    // At anchor a ship swings round it with wind and tide: a circle of `swingM` traced every ~12 h.
    const swingKm = (stop.e.swingM ?? 0) / 1000;
    const p = swingKm > 0 ? destinationPoint(s, ((ms - stop.atMs) / (12 * HOUR_MS)) * 360, swingKm) : s;
    return { ...s, lat: p.lat, lon: p.lon, speedKmh: 0, moving: false };
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
      // Landing: altitude and speed fall linearly over the distance flown in the last AIR.descentMs.
      const descentKm = (speed * AIR.descentMs) / HOUR_MS;
      const down = divert.e.land ? Math.min(1, Math.max(0, (km - (totalKm - descentKm)) / descentKm)) : 0;
      return {
        ...start,
        lat: p.lat,
        lon: p.lon,
        speedKmh: moving ? speed - (speed - AIR.slowKmh) * down : 0,
        headingDeg: moving ? initialBearingDeg(p, divert.e.toward) : 0,
        altM: divert.e.land ? Math.round(start.altM * (moving ? 1 - down : 0)) : start.altM,
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

export function scenarioEndMs(s: Scenario, journey: Journey | undefined): number {
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
