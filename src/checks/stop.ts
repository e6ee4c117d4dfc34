// UNPLANNED_STOP: no movement beyond a small radius (a radius test on positions, not the speed field) for longer
// than a threshold, away from origin, destination and planned stops — much sooner inside a transshipment hub.
// DESTINATION_MISMATCH: stopped for good somewhere other than the destination — destinationMismatchHours of no
// movement (a week for a ship: anchorage waits of 2–7 days are routine), with UNPLANNED_STOP as the warning in
// between. It resolves itself when the shipment moves on and gets closer to its destination: the voyage had not
// ended there after all.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { LatLon } from '../geo/types.ts';
import { isoTime, round } from './format.ts';
import type { CheckResult, Fix, Place, ShipmentContext } from './types.ts';

export interface StopState {
  anchor: (LatLon & { since: number }) | null;
  raised: boolean;
  mismatchRaised: boolean;
  /** Where an open DESTINATION_MISMATCH was raised and how far from the destination that was. */
  mismatch?: (LatLon & { since: number; distanceKm: number }) | null;
}

export const initialStop: StopState = { anchor: null, raised: false, mismatchRaised: false, mismatch: null };

const within = (p: LatLon, place: Place) => haversineKm(p, place) <= place.radiusKm;

export function checkStop(s: StopState, fix: Fix, ctx: ShipmentContext): CheckResult<StopState> {
  const p = ctx.params;
  if (!s.anchor || haversineKm(s.anchor, fix) > p.stopRadiusKm) {
    // Moving: the next stop starts here.
    const events: AlertEvent[] = [];
    let mismatch = s.mismatch ?? null;
    const toGoKm = mismatch ? haversineKm(fix, ctx.destination) : 0;
    // Moving on toward the destination by more than the stop radius: the voyage did not end back there.
    if (mismatch && toGoKm < mismatch.distanceKm - p.stopRadiusKm) {
      events.push({
        type: 'DESTINATION_MISMATCH',
        action: 'resolve',
        at: fix.ts,
        details: {
          reason: `moved on toward the destination: ${round(toGoKm)} km to go, ${round(mismatch.distanceKm)} km where it had stopped`,
          stoppedAt: { lat: mismatch.lat, lon: mismatch.lon, since: isoTime(mismatch.since) },
          fix: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
        },
      });
      mismatch = null;
    }
    return {
      state: {
        anchor: { lat: fix.lat, lon: fix.lon, since: fix.ts },
        raised: false,
        mismatchRaised: false,
        mismatch,
      },
      events,
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
  const where = { lat: anchor.lat, lon: anchor.lon };
  const country = ctx.zones.countryAt(anchor) ?? null;
  if (!exempt && !s.raised && minutes >= threshold) {
    events.push({
      type: 'UNPLANNED_STOP',
      action: 'raise',
      at: fix.ts,
      details: {
        ...where,
        country,
        since: isoTime(anchor.since),
        distanceToDestinationKm: round(haversineKm(anchor, ctx.destination)),
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
        country,
        since: isoTime(anchor.since),
        stoppedHours: round(minutes / 60),
        thresholdHours: p.destinationMismatchHours,
        destination: ctx.destination,
        distanceToDestinationKm: round(haversineKm(anchor, ctx.destination)),
        expected: `stopped inside ${round(ctx.destination.radiusKm)} km of the destination`,
      },
    });
    state.mismatchRaised = true;
    state.mismatch = { ...where, since: anchor.since, distanceKm: haversineKm(anchor, ctx.destination) };
  }
  return { state, events };
}
