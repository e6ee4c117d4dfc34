// Runs every telemetry check over a shipment's new fixes in device-time order, pure: (state, fixes, context) →
// (state, alert events, flags per fix, status). A late fix (older than the last one) is checked for zones only and
// never moves a state machine backwards.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { ZoneFilter, ZoneIndex } from '../geo/types.ts';
import { checkDiversion, type DiversionState, initialDiversion } from './diversion.ts';
import { checkGap } from './gap.ts';
import { checkDeviation, type DeviationState, initialDeviation } from './route-deviation.ts';
import { checkSpoofing, initialSpoof, type SpoofState } from './spoofing.ts';
import { checkStop, initialStop, type StopState } from './stop.ts';
import { checkTamper } from './tamper.ts';
import type { Fix, ShipmentContext } from './types.ts';
import { checkZones } from './zone.ts';

export type ShipmentStatus = 'planned' | 'in_transit' | 'arrived' | 'installed' | 'cancelled';

export interface ShipmentState {
  lastFix?: Fix;
  deviation: DeviationState;
  diversion: DiversionState;
  stop: StopState;
  spoof: SpoofState;
}

export function initialShipmentState(): ShipmentState {
  return { deviation: initialDeviation, diversion: initialDiversion, stop: initialStop, spoof: initialSpoof };
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

export function runShipmentChecks(
  prior: ShipmentState,
  status: ShipmentStatus,
  fixes: Fix[],
  ctx: ShipmentContext,
): CheckRun {
  let state = prior;
  const run: CheckRun = { state, status, events: [], flags: new Map() };
  const order = fixes.map((f, i) => ({ f, i })).sort((a, b) => a.f.ts - b.f.ts);
  for (const { f: fix, i } of order) {
    const loc = ctx.route.locate(fix);
    const last = state.lastFix;
    if (last && fix.ts <= last.ts) {
      run.events.push(...checkZones(undefined, fix, ctx, loc.crossTrackKm));
      continue;
    }
    run.events.push(...checkZones(last, fix, ctx, loc.crossTrackKm));
    const spoof = checkSpoofing(state.spoof, last, fix, ctx);
    run.events.push(...spoof.events);
    if (spoof.flags?.length) run.flags.set(i, spoof.flags);
    run.events.push(...checkTamper(fix, ctx));
    if (run.status === 'planned') {
      run.status = 'in_transit';
      run.startedAt = fix.ts;
    }
    let { deviation, diversion, stop } = state;
    if (run.status === 'in_transit') {
      run.events.push(...checkGap(last, fix, loc.crossTrackKm, ctx));
      const d = checkDeviation(deviation, fix, loc.crossTrackKm, ctx);
      const v = checkDiversion(diversion, fix, loc.crossTrackKm, ctx);
      const s = checkStop(stop, fix, ctx);
      run.events.push(...d.events, ...v.events, ...s.events);
      ({ state: deviation } = d);
      ({ state: diversion } = v);
      ({ state: stop } = s);
      run.progressKm = loc.alongKm;
      if (haversineKm(fix, ctx.destination) <= ctx.destination.radiusKm) {
        run.status = 'arrived';
        run.arrivedAt = fix.ts;
        run.progressKm = ctx.route.route.lengthKm;
        run.events.push(
          {
            type: 'SIGNAL_LOST',
            action: 'resolve',
            at: fix.ts,
            details: { reason: 'arrived at the destination' },
          },
          {
            type: 'ROUTE_DEVIATION',
            action: 'resolve',
            at: fix.ts,
            details: { reason: 'arrived at the destination' },
          },
        );
      }
    }
    state = { lastFix: fix, deviation, diversion, stop, spoof: spoof.state };
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
            fix: { ts: new Date(fix.ts).toISOString(), lat: fix.lat, lon: fix.lon },
          },
        }),
      ),
  );
}
