// After a silence: SIGNAL_LOST (raised by the timer in alerts/signal-lost.ts) resolves when telemetry resumes, and
// GAP_WITH_DISPLACEMENT fires when the first fix after the gap lies farther from the last one than the route and the
// elapsed time explain: off the corridor, or farther than the mode's top speed could carry it.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import { isoTime, round } from './format.ts';
import type { Fix, ShipmentContext } from './types.ts';

export function checkGap(
  prev: Fix | undefined,
  fix: Fix,
  crossTrackKm: number,
  ctx: ShipmentContext,
): AlertEvent[] {
  if (!prev) return [];
  const gapS = (fix.ts - prev.ts) / 1000;
  if (gapS < ctx.params.gapIntervals * ctx.reportIntervalS) return [];
  const events: AlertEvent[] = [
    {
      type: 'SIGNAL_LOST',
      action: 'resolve',
      at: fix.ts,
      details: { reason: `telemetry resumed after ${round(gapS / 3600, 2)} h` },
    },
  ];
  const movedKm = haversineKm(prev, fix);
  const reachableKm = (ctx.params.maxSpeedKmh * gapS) / 3600;
  const offRoute = crossTrackKm > ctx.corridorKm;
  if (offRoute || movedKm > reachableKm) {
    events.push({
      type: 'GAP_WITH_DISPLACEMENT',
      action: 'raise',
      at: fix.ts,
      details: {
        gapHours: round(gapS / 3600, 2),
        movedKm: round(movedKm),
        reachableKm: round(reachableKm),
        crossTrackKm: round(crossTrackKm),
        corridorKm: ctx.corridorKm,
        reason:
          movedKm > reachableKm ? 'farther than the top speed allows' : 'reappeared off the planned route',
        before: { ts: isoTime(prev.ts), lat: prev.lat, lon: prev.lon },
        after: { ts: isoTime(fix.ts), lat: fix.lat, lon: fix.lon },
      },
    });
  }
  return events;
}
