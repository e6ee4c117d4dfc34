// SPOOFING_SUSPECTED for single fixes: an implied speed from the last trusted fix above the mode's limit (a jump),
// a fix back at a point a run of such jumps already claimed (GNSS pinned to one place, as around the eastern Baltic
// since 2023), the same coordinates repeated while the device says it moves (a frozen, replayed track), or satellite
// figures no real fix has. Such a fix is *suspect*: stored with its flags and kept as evidence, but it drives no zone,
// diversion, stop or progress check; where it claims a restricted country, the spoofing alert says so instead of an
// entry. The run ends at the first fix the last trusted one could have reached that is not at a claimed point.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { LatLon } from '../geo/types.ts';
import { isoTime, round } from './format.ts';
import type { Fix, ShipmentContext } from './types.ts';

export interface SpoofRun {
  since: number;
  fixes: number;
  /** Zones (restricted or unlicensed) the suspect fixes claim to lie in: id → name and country. */
  claims: { zoneId: string; zoneName: string; country: string | null; tier: string }[];
  /** A few of the claimed positions: a later fix within PINNED_KM of one is the same spoofing. */
  points: LatLon[];
  /** The newest suspect fix, and how many in a row each lay within reach of the one before. */
  last?: { ts: number; lat: number; lon: number };
  consistent?: number;
}

export interface SpoofState {
  repeats: number;
  run?: SpoofRun | null;
}

export const initialSpoof: SpoofState = { repeats: 0, run: null };

/** GNSS noise makes short hops between close fixes look fast; below this, speed says nothing. */
const MIN_JUMP_KM = 5;
/** Spoofers pin receivers to one point, give or take their own noise. */
const PINNED_KM = 5;
/** Suspect fixes in a row that move on, each reachable from the one before: the tracker really is there now. */
const RELOCATED_FIXES = 3;
const MAX_POINTS = 8;

export interface SpoofResult {
  state: SpoofState;
  events: AlertEvent[];
  flags: string[];
  /** The fix must not drive position checks. */
  suspect: boolean;
}

const at = (f: Fix) => ({ ts: isoTime(f.ts), lat: f.lat, lon: f.lon });

export function checkSpoofing(
  s: SpoofState,
  trusted: Fix | undefined,
  fix: Fix,
  ctx: ShipmentContext,
): SpoofResult {
  const flags: string[] = [];
  // Filled only for a suspect fix (most are not): the event's details.
  const details: Record<string, unknown> = {};
  const run = s.run ?? null;
  let repeats = 0;
  // A run that moves on consistently, away from where it began, is a real track resumed elsewhere (carried by
  // other means, or the trusted fix was the wrong one): from here on it drives the checks again.
  const consistent = run?.last && reachable(run.last, fix, ctx) ? (run.consistent ?? 0) + 1 : 0;
  const movedOn = run?.points[0] !== undefined && haversineKm(run.points[0], fix) > PINNED_KM;
  if (run && consistent + 1 >= RELOCATED_FIXES && movedOn) {
    return {
      state: { repeats: 0, run: null },
      events: [],
      flags: ['TRACK_RESUMED_ELSEWHERE'],
      suspect: false,
    };
  }
  if (trusted) {
    const km = haversineKm(trusted, fix);
    const hours = Math.max((fix.ts - trusted.ts) / 3_600_000, 1 / 3600);
    const speed = km / hours;
    if (km > MIN_JUMP_KM && speed > ctx.params.maxSpeedKmh) {
      flags.push('SPEED_IMPOSSIBLE');
      Object.assign(details, {
        subtype: 'impossible_speed',
        impliedSpeedKmh: round(speed),
        maxSpeedKmh: ctx.params.maxSpeedKmh,
        jumpKm: round(km),
        lastTrustedFix: at(trusted),
        reachableKm: round(ctx.params.maxSpeedKmh * hours),
      });
    } else if (run && km > MIN_JUMP_KM && run.points.some((p) => haversineKm(p, fix) <= PINNED_KM)) {
      flags.push('SPOOF_PINNED');
      Object.assign(details, { subtype: 'pinned', lastTrustedFix: at(trusted), pinnedWithinKm: PINNED_KM });
    }
    const same = trusted.lat === fix.lat && trusted.lon === fix.lon;
    repeats = same && (fix.speedKmh ?? 0) > 5 ? s.repeats + 1 : 0;
    if (repeats + 1 >= ctx.params.frozenFixes) {
      flags.push('FROZEN_TRACK');
      Object.assign(details, {
        subtype: details.subtype ?? 'frozen',
        identicalFixes: repeats + 1,
        reportedSpeedKmh: fix.speedKmh,
      });
    }
  }
  if ((fix.satellites !== undefined && fix.satellites < 3) || fix.hdop === 0) {
    flags.push('GNSS_IMPOSSIBLE');
    Object.assign(details, {
      subtype: details.subtype ?? 'gnss_impossible',
      satellites: fix.satellites ?? null,
      hdop: fix.hdop ?? null,
    });
  }
  if (flags.length === 0) return { state: { repeats, run: null }, events: [], flags, suspect: false };

  // A frozen fix repeats the trusted position: it must not become a claimed point.
  const claimsPosition = flags.some((f) => f !== 'FROZEN_TRACK');
  const next: SpoofRun = run
    ? { ...run, fixes: run.fixes + 1, consistent }
    : { since: fix.ts, fixes: 1, claims: [], points: [], consistent: 0 };
  next.last = { ts: fix.ts, lat: fix.lat, lon: fix.lon };
  if (claimsPosition) {
    if (!next.points.some((p) => haversineKm(p, fix) <= 1) && next.points.length < MAX_POINTS)
      next.points = [...next.points, { lat: fix.lat, lon: fix.lon }];
    const claimed = ctx.zones.zonesAt(fix).filter((z) => ctx.isRestricted(z) || ctx.isUnlicensed(z));
    for (const z of claimed) {
      if (!next.claims.some((c) => c.zoneId === z.id))
        next.claims = [
          ...next.claims,
          { zoneId: z.id, zoneName: z.name, country: z.country ?? null, tier: z.tier },
        ];
    }
  }
  const restrictedClaim = next.claims.find((c) => c.tier === 'restricted') ?? next.claims[0];
  const event: AlertEvent = {
    type: 'SPOOFING_SUSPECTED',
    action: 'raise',
    at: fix.ts,
    details: {
      fix: at(fix),
      ...details,
      flags,
      runSince: isoTime(next.since),
      runFixes: next.fixes,
      // The only evidence of being there is a fix chipwatch itself found impossible: no entry is raised.
      claimedZones: next.claims,
      ...(restrictedClaim
        ? {
            country: restrictedClaim.country,
            zoneId: restrictedClaim.zoneId,
            zoneName: restrictedClaim.zoneName,
          }
        : {}),
      drivesChecks: false,
    },
  };
  return { state: { repeats, run: next }, events: [event], flags, suspect: true };
}

function reachable(a: { ts: number; lat: number; lon: number }, b: Fix, ctx: ShipmentContext): boolean {
  const km = haversineKm(a, b);
  return km <= MIN_JUMP_KM || km / Math.max((b.ts - a.ts) / 3_600_000, 1 / 3600) <= ctx.params.maxSpeedKmh;
}

/** A late fix (older than the newest): suspect when the trusted fix could not have reached it either. */
export function lateFixImpossible(trusted: Fix | undefined, fix: Fix, ctx: ShipmentContext): boolean {
  if (!trusted) return false;
  const km = haversineKm(trusted, fix);
  const hours = Math.max(Math.abs(trusted.ts - fix.ts) / 3_600_000, 1 / 3600);
  return km > MIN_JUMP_KM && km / hours > ctx.params.maxSpeedKmh;
}
