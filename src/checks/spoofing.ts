// SPOOFING_SUSPECTED: an implied speed above the mode's limit (a teleport), the same coordinates repeated while the
// device says it moves (a frozen, replayed track), or satellite figures no real fix has. Suspect fixes are stored
// with flags, never dropped.
import { haversineKm } from '../geo/spherical.ts';
import { round } from './format.ts';
import type { CheckResult, Fix, ShipmentContext } from './types.ts';

export interface SpoofState {
  repeats: number;
}

export const initialSpoof: SpoofState = { repeats: 0 };

/** GNSS noise makes short hops between close fixes look fast; below this, speed says nothing. */
const MIN_JUMP_KM = 5;

export function checkSpoofing(
  s: SpoofState,
  prev: Fix | undefined,
  fix: Fix,
  ctx: ShipmentContext,
): CheckResult<SpoofState> {
  const flags: string[] = [];
  const details: Record<string, unknown> = {
    fix: { ts: new Date(fix.ts).toISOString(), lat: fix.lat, lon: fix.lon },
  };
  let repeats = 0;
  if (prev) {
    const km = haversineKm(prev, fix);
    const hours = Math.max((fix.ts - prev.ts) / 3_600_000, 1 / 3600);
    const speed = km / hours;
    if (km > MIN_JUMP_KM && speed > ctx.params.maxSpeedKmh) {
      flags.push('SPEED_IMPOSSIBLE');
      Object.assign(details, {
        impliedSpeedKmh: round(speed),
        maxSpeedKmh: ctx.params.maxSpeedKmh,
        jumpKm: round(km),
      });
    }
    const same = prev.lat === fix.lat && prev.lon === fix.lon;
    repeats = same && (fix.speedKmh ?? 0) > 5 ? s.repeats + 1 : 0;
    if (repeats + 1 >= ctx.params.frozenFixes) {
      flags.push('FROZEN_TRACK');
      Object.assign(details, { identicalFixes: repeats + 1, reportedSpeedKmh: fix.speedKmh });
    }
  }
  if ((fix.satellites !== undefined && fix.satellites < 3) || fix.hdop === 0) {
    flags.push('GNSS_IMPOSSIBLE');
    Object.assign(details, { satellites: fix.satellites ?? null, hdop: fix.hdop ?? null });
  }
  const events =
    flags.length > 0
      ? [
          {
            type: 'SPOOFING_SUSPECTED' as const,
            action: 'raise' as const,
            at: fix.ts,
            details: { ...details, flags },
          },
        ]
      : [];
  return { state: { repeats }, events, flags };
}
