// ROUTE_DEVIATION: cross-track distance to the planned route above the corridor for ≥ N consecutive fixes and
// ≥ M minutes (debounced, so one noisy fix never fires); resolves itself after the shipment has been back inside
// the corridor for a while.

import type { AlertEvent } from '../domain/alerts.ts';
import { isoTime, round } from './format.ts';
import type { CheckResult, Fix, ShipmentContext } from './types.ts';

export interface DeviationState {
  outsideFixes: number;
  outsideSince: number | null;
  insideSince: number | null;
  maxCrossTrackKm: number;
  open: boolean;
}

export const initialDeviation: DeviationState = {
  outsideFixes: 0,
  outsideSince: null,
  insideSince: null,
  maxCrossTrackKm: 0,
  open: false,
};

export function checkDeviation(
  s: DeviationState,
  fix: Fix,
  crossTrackKm: number,
  ctx: ShipmentContext,
): CheckResult<DeviationState> {
  const p = ctx.params;
  const events: AlertEvent[] = [];
  if (crossTrackKm > ctx.corridorKm) {
    const next: DeviationState = {
      outsideFixes: s.outsideFixes + 1,
      outsideSince: s.outsideSince ?? fix.ts,
      insideSince: null,
      maxCrossTrackKm: Math.max(s.maxCrossTrackKm, crossTrackKm),
      open: s.open,
    };
    const heldMin = (fix.ts - next.outsideSince!) / 60_000;
    if (next.outsideFixes >= p.deviationMinFixes && heldMin >= p.deviationMinMinutes) {
      events.push({
        type: 'ROUTE_DEVIATION',
        action: 'raise',
        at: fix.ts,
        details: {
          crossTrackKm: round(crossTrackKm),
          maxCrossTrackKm: round(next.maxCrossTrackKm),
          corridorKm: ctx.corridorKm,
          outsideSince: isoTime(next.outsideSince!),
          fixesOutside: next.outsideFixes,
          fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
        },
      });
      next.open = true;
    }
    return { state: next, events };
  }
  const insideSince = s.insideSince ?? fix.ts;
  if (s.open && (fix.ts - insideSince) / 60_000 >= p.deviationClearMinutes) {
    events.push({
      type: 'ROUTE_DEVIATION',
      action: 'resolve',
      at: fix.ts,
      details: {
        reason: `back inside the ${ctx.corridorKm} km corridor since ${isoTime(insideSince)}`,
      },
    });
    return { state: { ...initialDeviation }, events };
  }
  return {
    state: {
      outsideFixes: 0,
      outsideSince: null,
      insideSince,
      maxCrossTrackKm: s.open ? s.maxCrossTrackKm : 0,
      open: s.open,
    },
    events,
  };
}
