// Runs every telemetry check over a shipment's new fixes in device-time order, pure: (state, fixes, context) →
// (state, alert events, flags per fix, status). A late fix (older than the last one) is checked for zones only and
// never moves a state machine backwards. A suspect fix (one the spoofing check finds physically impossible) is
// stored with its flags as evidence but drives nothing: the position checks keep judging from the last trusted fix.
// Arrival is a stop inside the destination, not a pass-by; an arrived shipment that leaves again is back in transit.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { ClearBox, ZoneFilter, ZoneIndex } from '../geo/types.ts';
import { findClearBox, forbiddenZones, validClearBox, zonesInBox } from './clearance.ts';
import type { DiversionAids } from './course.ts';
import { checkDiversion, type DiversionState, initialDiversion } from './diversion.ts';
import { isoTime } from './format.ts';
import { checkGap } from './gap.ts';
import { checkRegularity, initialRegular, type RegularState } from './regularity.ts';
import { checkDeviation, type DeviationState, initialDeviation } from './route-deviation.ts';
import { checkSpoofing, initialSpoof, lateFixImpossible, type SpoofState } from './spoofing.ts';
import { checkStop, initialStop, type StopState } from './stop.ts';
import { checkTamper } from './tamper.ts';
import type { Fix, ShipmentContext } from './types.ts';
import { checkZones, type ZoneResult } from './zone.ts';

export type ShipmentStatus = 'planned' | 'in_transit' | 'arrived' | 'installed' | 'cancelled';

export interface ShipmentState {
  /** The newest fix received, suspect or not (what "last seen" means). */
  lastFix?: Fix;
  /** The newest fix the checks trust: position checks judge from it. Absent in older states: lastFix then. */
  trusted?: Fix;
  deviation: DeviationState;
  diversion: DiversionState;
  stop: StopState;
  spoof: SpoofState;
  regular?: RegularState;
  /** A box around the track no restricted or unlicensed zone reaches (clearance.ts): zone lookups skipped in it. */
  clear?: ClearBox | null;
}

export function initialShipmentState(): ShipmentState {
  return {
    deviation: initialDeviation,
    diversion: initialDiversion,
    stop: initialStop,
    spoof: initialSpoof,
    regular: initialRegular,
  };
}

export interface CheckRun {
  state: ShipmentState;
  status: ShipmentStatus;
  events: AlertEvent[];
  /** Flags per input index (positions in `fixes`). */
  flags: Map<number, string[]>;
  startedAt?: number;
  arrivedAt?: number;
  progressKm?: number;
}

const resolveOnArrival = (at: number): AlertEvent[] =>
  (['SIGNAL_LOST', 'ROUTE_DEVIATION'] as const).map((type) => ({
    type,
    action: 'resolve',
    at,
    details: { reason: 'arrived at the destination' },
  }));

const NO_ZONES: ZoneResult = { events: [], flags: [] };

/** out.push(...xs) without spreading: most checks return no event, and a spread call costs more than a loop. */
function append(out: AlertEvent[], xs: AlertEvent[]) {
  for (const x of xs) out.push(x);
}

function addFlags(run: CheckRun, i: number, f: string[]) {
  if (f.length > 0) run.flags.set(i, [...(run.flags.get(i) ?? []), ...f]);
}

const byTs = (a: { f: Fix }, b: { f: Fix }) => a.f.ts - b.f.ts;
/** The fixes with their input positions, in device time order (the sort is stable). */
function inDeviceOrder(fixes: Fix[]): { f: Fix; i: number }[] {
  const order = new Array<{ f: Fix; i: number }>(fixes.length);
  for (let i = 0; i < fixes.length; i++) order[i] = { f: fixes[i]!, i };
  return fixes.length > 1 ? order.sort(byTs) : order;
}

/** `full`: no shortcut (clear box, distances measured only when needed): the plain evaluation, for comparison. */
export function runShipmentChecks(
  prior: ShipmentState,
  status: ShipmentStatus,
  fixes: Fix[],
  ctx: ShipmentContext,
  opts: { full?: boolean } = {},
): CheckRun {
  let state = prior;
  const forbidden = forbiddenZones(ctx);
  let clear = opts.full ? null : validClearBox(prior.clear, ctx, forbidden);
  const run: CheckRun = { state, status, events: [], flags: new Map() };
  // One fix per message is the common case: in order as it is.
  const order = fixes.length > 1 ? inDeviceOrder(fixes) : undefined;
  for (let k = 0; k < fixes.length; k++) {
    const fix = order ? order[k]!.f : fixes[k]!;
    const i = order ? order[k]!.i : k;
    const last = state.lastFix;
    const trusted = state.trusted ?? last;
    if (last && fix.ts <= last.ts) {
      // Late: evidence for zones, unless no real track could have put it there.
      if (lateFixImpossible(trusted, fix, ctx)) addFlags(run, i, ['SPEED_IMPOSSIBLE']);
      else {
        const z = checkZones(undefined, fix, ctx, ctx.route.locate(fix).crossTrackKm);
        append(run.events, z.events);
        addFlags(run, i, z.flags);
      }
      continue;
    }
    const spoof = checkSpoofing(state.spoof, trusted, fix, ctx);
    append(run.events, spoof.events);
    addFlags(run, i, spoof.flags);
    if (spoof.suspect) {
      // The sensors still speak for the case: a tamper switch is judged where the trusted track puts it.
      append(run.events, checkTamper(trusted ? { ...fix, lat: trusted.lat, lon: trusted.lon } : fix, ctx));
      state = {
        lastFix: fix,
        trusted: state.trusted,
        deviation: state.deviation,
        diversion: state.diversion,
        stop: state.stop,
        spoof: spoof.state,
        regular: state.regular,
      };
      continue;
    }
    const loc = ctx.route.locate(fix);
    // Resumed elsewhere: the segment from the old trusted fix was never travelled as a line.
    const resumed = spoof.flags.includes('TRACK_RESUMED_ELSEWHERE');
    const from = resumed ? undefined : trusted;
    const known = clear === null ? undefined : zonesInBox(clear, from, fix, ctx);
    const zones =
      known?.length === 0 ? NO_ZONES : checkZones(from, fix, ctx, loc.crossTrackKm, known ?? undefined);
    if (known === undefined && !opts.full) clear = findClearBox(fix, ctx, forbidden);
    append(run.events, zones.events);
    addFlags(run, i, zones.flags);
    append(run.events, checkTamper(fix, ctx));
    const regular = checkRegularity(state.regular ?? initialRegular, fix, ctx);
    append(run.events, regular.events);
    if (run.status === 'planned') {
      run.status = 'in_transit';
      run.startedAt = fix.ts;
    }
    const toGoKm = haversineKm(fix, ctx.destination);
    if (run.status === 'arrived' && toGoKm > ctx.destination.radiusKm + ctx.params.stopRadiusKm) {
      run.status = 'in_transit';
    }
    let { deviation, diversion, stop } = state;
    if (run.status === 'in_transit') {
      append(run.events, checkGap(trusted, fix, loc.crossTrackKm, ctx));
      const d = checkDeviation(deviation, fix, loc.crossTrackKm, ctx);
      const aids: DiversionAids = { full: opts.full, clear, forbidden, destinationKm: toGoKm };
      // Off the corridor the zone check looked for the same zones as the diversion's.
      if (zones.inside && loc.crossTrackKm > ctx.corridorKm) aids.inside = zones.inside;
      const v = checkDiversion(diversion, fix, loc, ctx, aids);
      const s = checkStop(stop, fix, ctx);
      append(run.events, d.events);
      append(run.events, v.events);
      append(run.events, s.events);
      ({ state: deviation } = d);
      ({ state: diversion } = v);
      ({ state: stop } = s);
      run.progressKm = loc.alongKm;
      const anchor = stop.anchor;
      const dwellMin = anchor ? (fix.ts - anchor.since) / 60_000 : 0;
      if (
        anchor &&
        toGoKm <= ctx.destination.radiusKm &&
        dwellMin >= ctx.params.arrivalDwellMinutes &&
        haversineKm(anchor, ctx.destination) <= ctx.destination.radiusKm
      ) {
        run.status = 'arrived';
        run.arrivedAt = anchor.since;
        run.progressKm = ctx.route.route.lengthKm;
        append(run.events, resolveOnArrival(fix.ts));
      }
    }
    state = {
      lastFix: fix,
      trusted: fix,
      deviation,
      diversion,
      stop,
      spoof: spoof.state,
      regular: regular.state,
    };
  }
  if (!opts.full) {
    if (state === prior) state = { ...prior };
    state.clear = clear;
  }
  run.state = state;
  return run;
}

/** A tracker bound to no shipment: its fixes are stored and checked for zones only. */
export function runUnboundChecks(fixes: Fix[], zones: ZoneIndex, isRestricted: ZoneFilter): AlertEvent[] {
  return fixes.flatMap((fix) =>
    zones
      .zonesAt(fix)
      .filter(isRestricted)
      .map(
        (z): AlertEvent => ({
          type: 'RESTRICTED_ZONE_ENTERED',
          action: 'raise',
          at: fix.ts,
          details: {
            zoneId: z.id,
            zoneName: z.name,
            tier: z.tier,
            via: 'fix',
            unbound: true,
            fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
          },
        }),
      ),
  );
}
