// Tighten-only: what a logistics token may set on a shipment's policy. Logistics registers shipments against the
// policy as it stands; only compliance (or admin) may weaken a check. Pure: the API reads the licences and the
// destination's country and asks `weakenings`, which names every field that would weaken a check.
import { defaultParams } from './params.ts';
import type { CheckParams } from './types.ts';

/**
 * For every threshold, the direction that makes its check fire later or never ("looser"). A Record over every
 * key of CheckParams: a new threshold does not compile until someone decides its direction here.
 *
 * | param                        | looser | why                                                                     |
 * |------------------------------|--------|-------------------------------------------------------------------------|
 * | deviationMinFixes            | higher | more fixes outside the corridor before ROUTE_DEVIATION                   |
 * | deviationMinMinutes          | higher | a longer excursion before ROUTE_DEVIATION                                |
 * | deviationClearMinutes        | lower  | a deviation clears (auto-resolves) after a shorter return               |
 * | diversionHorizonHours        | lower  | a restricted border counts only if reached sooner                       |
 * | diversionWindowFixes         | higher | more fixes must agree on the course before DIVERSION_TOWARD_RESTRICTED  |
 * | diversionMaxCourseSpreadDeg  | lower  | only a straighter course counts as heading somewhere                    |
 * | diversionApproachMinKm       | higher | the shipment must close in further on a restricted border               |
 * | diversionDestinationConeDeg  | higher | a wider cone around the destination's bearing excuses more courses      |
 * | cruiseMaxKmh                 | lower  | a shorter look-ahead: a restricted border counts only if nearer         |
 * | stopRadiusKm                 | lower  | a slow drift within a larger circle no longer counts as stopped         |
 * | stopMinutes                  | higher | a longer stop before UNPLANNED_STOP                                     |
 * | stopMinutesWatch             | higher | a longer stop at a transshipment hub before UNPLANNED_STOP              |
 * | gapIntervals                 | higher | a longer silence before SIGNAL_LOST / GAP_WITH_DISPLACEMENT             |
 * | lightLuxThreshold            | higher | more light inside the case before TAMPER                                |
 * | maxSpeedKmh                  | higher | faster jumps pass as real (SPEED_IMPOSSIBLE, gap displacement)          |
 * | frozenFixes                  | higher | a replayed (frozen) track must repeat longer before it is flagged       |
 * | regularWindowFixes           | higher | a too-regular (synthetic) track must run longer before it is flagged    |
 * | destinationMismatchHours     | higher | a longer stay elsewhere before the destination is judged wrong          |
 * | diversionDestinationConeDeg  | higher | more courses count as heading for the destination                       |
 * | cruiseMaxKmh                 | lower  | a shorter look-ahead for DIVERSION_TOWARD_RESTRICTED                    |
 * | regularWindowFixes           | higher | a synthetic track must last longer before it is flagged                 |
 * | arrivalDwellMinutes          | lower  | a shorter stop (down to a pass-by) counts as arrival                    |
 * | overflightMinAltM            | lower  | a lower aircraft over a restricted country passes as an overflight      |
 * | overflightMinSpeedKmh        | lower  | a slower aircraft over a restricted country passes as an overflight     |
 * | arrivalDwellMinutes          | lower  | a shorter pause at the destination counts as arrival (checks end)        |
 * | overflightMinAltM            | lower  | lower flight counts as an overflight, not an entry                      |
 * | overflightMinSpeedKmh        | lower  | slower flight counts as an overflight, not an entry                     |
 *
 * Outside params: `corridorKm` higher is looser (ROUTE_DEVIATION, and licence-required zones alert only off the
 * corridor); `restrictedCountries` missing a code is looser (that country drops to licence-required); any licence
 * lifts a licence-required country; a place's `radiusKm` higher is looser (no stop or tamper alert inside it);
 * `reportIntervalS` higher is looser (SIGNAL_LOST waits gapIntervals × reportIntervalS). `mode` picks the defaults
 * (an aircraft's speed limit is a ship's ×23) and is not judged here: it is a fact of the shipment.
 */
export const LOOSER: Record<keyof CheckParams, 'higher' | 'lower'> = {
  deviationMinFixes: 'higher',
  deviationMinMinutes: 'higher',
  deviationClearMinutes: 'lower',
  diversionHorizonHours: 'lower',
  diversionWindowFixes: 'higher',
  diversionMaxCourseSpreadDeg: 'lower',
  diversionApproachMinKm: 'higher',
  diversionDestinationConeDeg: 'higher',
  cruiseMaxKmh: 'lower',
  stopRadiusKm: 'lower',
  stopMinutes: 'higher',
  stopMinutesWatch: 'higher',
  gapIntervals: 'higher',
  lightLuxThreshold: 'higher',
  maxSpeedKmh: 'higher',
  frozenFixes: 'higher',
  regularWindowFixes: 'higher',
  destinationMismatchHours: 'higher',
  arrivalDwellMinutes: 'lower',
  overflightMinAltM: 'lower',
  overflightMinSpeedKmh: 'lower',
};

/**
 * The widest corridor logistics may set, per mode (the registration default stays 50 km for every mode). Aircraft
 * fly airways, not the great circle, and wander from it by tens of kilometres more than ships from their lane.
 */
export const LOGISTICS_MAX_CORRIDOR_KM = { sea: 50, air: 100, road: 50 } as const;

/** The largest origin, destination or planned-stop radius logistics may set: a port or an airport and its area. */
export const LOGISTICS_MAX_PLACE_RADIUS_KM = 50;

/**
 * The longest report interval logistics may declare: hourly. SIGNAL_LOST fires after gapIntervals × reportIntervalS,
 * so a declared day would hide three days of silence; a tracker that reports less often needs compliance.
 */
export const LOGISTICS_MAX_REPORT_INTERVAL_S = 3600;

/** The fields of a shipment that set how strictly it is checked. */
export interface PolicyFields {
  restrictedCountries: string[] | null;
  corridorKm: number;
  params: Partial<CheckParams>;
  licenses: { country: string; number: string }[];
}

/** A licence cited anew, with its record when one exists (status at this moment). */
export interface LicenceClaim {
  id: string;
  licence?: { status: 'active' | 'pending' | 'expired' | 'revoked'; countries: string[]; validTo: string };
}

export interface Weakening {
  /** The request's field, e.g. `restrictedCountries`, `params.maxSpeedKmh`, `licenceIds`. */
  field: string;
  message: string;
}

export interface LogisticsRequest {
  mode: 'sea' | 'air' | 'road';
  /** The global policy's restricted tier. */
  policyRestricted: ReadonlySet<string>;
  /** CHECK_PARAMS: the global thresholds. */
  globalParams: Partial<CheckParams>;
  next: PolicyFields;
  /** The shipment as it stands (a change): logistics may not loosen what compliance tightened either. */
  current?: PolicyFields;
  /** Licences the request cites that the shipment did not cite before. */
  addedLicences: LicenceClaim[];
  /** ISO alpha-2 of the destination (where the licence must allow export to); undefined when at sea. */
  destinationCountry: string | undefined;
  /** Places the request sets, by field name (registration only). */
  places?: { field: string; radiusKm: number }[];
  /** The report interval the request declares (registration only). */
  reportIntervalS?: number;
}

const ASK = 'only compliance may weaken a check';

/** Every field of a request that would weaken a check (at most one per kind), in a fixed order; [] when it only tightens. */
export function weakenings(r: LogisticsRequest): Weakening[] {
  return [
    restrictedWeakening(r),
    freeTextLicence(r),
    licenceClaim(r),
    corridorWeakening(r),
    ...paramWeakenings(r),
    placeWeakening(r),
    reportIntervalWeakening(r),
  ].filter((w): w is Weakening => w !== undefined);
}

function restrictedWeakening(r: LogisticsRequest): Weakening | undefined {
  const effective = new Set(r.next.restrictedCountries ?? r.policyRestricted);
  const policyMissing = [...r.policyRestricted].filter((c) => !effective.has(c)).sort();
  if (policyMissing.length > 0)
    return {
      field: 'restrictedCountries',
      message: `restrictedCountries leaves out ${policyMissing.join(', ')}, restricted by the global policy: ${ASK}`,
    };
  const mine = r.current?.restrictedCountries ?? [];
  const shipmentMissing = mine.filter((c) => !effective.has(c)).sort();
  if (shipmentMissing.length > 0)
    return {
      field: 'restrictedCountries',
      message: `restrictedCountries leaves out ${shipmentMissing.join(', ')}, restricted for this shipment: ${ASK}`,
    };
  return undefined;
}

function freeTextLicence(r: LogisticsRequest): Weakening | undefined {
  const had = new Set((r.current?.licenses ?? []).map((l) => `${l.country}\u0000${l.number}`));
  const added = r.next.licenses.find((l) => !had.has(`${l.country}\u0000${l.number}`));
  if (!added) return undefined;
  return {
    field: 'licenses',
    message: `licenses: a free-text licence (${added.country} ${added.number}) is not a granted licence; cite one by id in licenceIds, or ask compliance`,
  };
}

function licenceClaim(r: LogisticsRequest): Weakening | undefined {
  for (const { id, licence } of r.addedLicences) {
    const problem = !licence
      ? `no licence ${id} has been granted`
      : licence.status === 'revoked'
        ? `licence ${id} is revoked`
        : licence.status === 'expired'
          ? `licence ${id} expired at ${licence.validTo}`
          : licence.status === 'pending'
            ? `licence ${id} is not valid yet`
            : r.destinationCountry === undefined || !licence.countries.includes(r.destinationCountry)
              ? `licence ${id} does not list the destination country (${r.destinationCountry ?? 'none'})`
              : undefined;
    if (problem) return { field: 'licenceIds', message: `licenceIds: ${problem}; ${ASK}` };
  }
  return undefined;
}

function corridorWeakening(r: LogisticsRequest): Weakening | undefined {
  const limit = Math.min(
    LOGISTICS_MAX_CORRIDOR_KM[r.mode],
    r.current?.corridorKm ?? Number.POSITIVE_INFINITY,
  );
  if (r.next.corridorKm <= limit) return undefined;
  return {
    field: 'corridorKm',
    message: `corridorKm ${r.next.corridorKm} is wider than ${limit} km (the policy for ${r.mode}${r.current ? ' or the shipment now' : ''}): ${ASK}`,
  };
}

function paramWeakenings(r: LogisticsRequest): Weakening[] {
  const global = defaultParams(r.mode, r.globalParams);
  const next = defaultParams(r.mode, { ...r.globalParams, ...r.next.params });
  const current = r.current ? defaultParams(r.mode, { ...r.globalParams, ...r.current.params }) : global;
  return (Object.keys(LOOSER) as (keyof CheckParams)[]).flatMap((key) => {
    const higher = LOOSER[key] === 'higher';
    const limit = higher ? Math.min(global[key], current[key]) : Math.max(global[key], current[key]);
    if (higher ? next[key] <= limit : next[key] >= limit) return [];
    return [
      {
        field: `params.${key}`,
        message: `params.${key} ${next[key]} is ${higher ? 'above' : 'below'} ${limit} (the global policy${r.current ? ' or the shipment now' : ''}), which loosens the check: ${ASK}`,
      },
    ];
  });
}

function placeWeakening(r: LogisticsRequest): Weakening | undefined {
  const wide = (r.places ?? []).find((p) => p.radiusKm > LOGISTICS_MAX_PLACE_RADIUS_KM);
  if (!wide) return undefined;
  return {
    field: wide.field,
    message: `${wide.field} ${wide.radiusKm} is above ${LOGISTICS_MAX_PLACE_RADIUS_KM} km: no stop or tamper alert fires inside it; ${ASK}`,
  };
}

function reportIntervalWeakening(r: LogisticsRequest): Weakening | undefined {
  if (r.reportIntervalS === undefined || r.reportIntervalS <= LOGISTICS_MAX_REPORT_INTERVAL_S)
    return undefined;
  return {
    field: 'reportIntervalS',
    message: `reportIntervalS ${r.reportIntervalS} is above ${LOGISTICS_MAX_REPORT_INTERVAL_S} s: SIGNAL_LOST would wait that much longer; ${ASK}`,
  };
}
