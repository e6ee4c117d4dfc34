// UNPLANNED_STOP: no movement beyond a small radius (a radius test on positions, not the speed field) for longer
// than a threshold, away from origin, destination and planned stops — much sooner inside a transshipment hub.
// DESTINATION_MISMATCH: stopped for good (days) somewhere other than the destination.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { LatLon } from '../geo/types.ts';
import { round } from './format.ts';
import type { CheckResult, Fix, Place, ShipmentContext } from './types.ts';

export interface StopState {
  anchor: (LatLon & { since: number }) | null;
  raised: boolean;
  mismatchRaised: boolean;
}

export const initialStop: StopState = { anchor: null, raised: false, mismatchRaised: false };

const within = (p: LatLon, place: Place) => haversineKm(p, place) <= place.radiusKm;

export function checkStop(s: StopState, fix: Fix, ctx: ShipmentContext): CheckResult<StopState> {
  const p = ctx.params;
  if (!s.anchor || haversineKm(s.anchor, fix) > p.stopRadiusKm) {
    // Moving: the next stop starts here.
    return {
      state: { anchor: { lat: fix.lat, lon: fix.lon, since: fix.ts }, raised: false, mismatchRaised: false },
      events: [],
    };
  }
  const anchor = s.anchor;
  const minutes = (fix.ts - anchor.since) / 60_000;
  const events: AlertEvent[] = [];
  // Most fixes are of a moving shipment or a short stop: look up zones only once a threshold is in reach.
  if (minutes < Math.min(p.stopMinutes, p.stopMinutesWatch, p.destinationMismatchHours * 60))
    return { state: s, events };
  const atDestination = within(anchor, ctx.destination);
  const exempt =
    atDestination || within(anchor, ctx.origin) || ctx.plannedStops.some((stop) => within(anchor, stop));
  const hub = ctx.zones.zonesAt(anchor).find(ctx.isWatch);
  const threshold = hub ? p.stopMinutesWatch : p.stopMinutes;
  const state = { ...s };
  const where = { lat: anchor.lat, lon: anchor.lon, country: ctx.zones.countryAt(anchor) ?? null };
  if (!exempt && !s.raised && minutes >= threshold) {
    events.push({
      type: 'UNPLANNED_STOP',
      action: 'raise',
      at: fix.ts,
      details: {
        ...where,
        since: new Date(anchor.since).toISOString(),
        stoppedMinutes: Math.round(minutes),
        thresholdMinutes: threshold,
        watchZone: hub ? { id: hub.id, name: hub.name } : null,
      },
    });
    state.raised = true;
  }
  if (!atDestination && !s.mismatchRaised && minutes >= p.destinationMismatchHours * 60) {
    events.push({
      type: 'DESTINATION_MISMATCH',
      action: 'raise',
      at: fix.ts,
      details: {
        ...where,
        since: new Date(anchor.since).toISOString(),
        stoppedHours: round(minutes / 60),
        destination: ctx.destination,
        distanceToDestinationKm: round(haversineKm(anchor, ctx.destination)),
      },
    });
    state.mismatchRaised = true;
  }
  return { state, events };
}
