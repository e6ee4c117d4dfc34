// Feeds a scenario's planned telemetry through chipwatch's own checks (pure, no database), message by message as
// ingest would, to see which alerts the planned fixes raise and when.

import { routeLegs } from '../../../device-sim/journey.ts';
import type { Plan } from '../../../device-sim/plan.ts';
import { DEFAULT_REPORT_INTERVAL_S } from '../../../device-sim/plan-telemetry.ts';
import { registration } from '../../../device-sim/provision.ts';
import type { Scenario } from '../../../device-sim/scenario.ts';
import { zoneFilters } from '../../../src/checks/context.ts';
import { defaultParams } from '../../../src/checks/params.ts';
import { initialShipmentState, runShipmentChecks, type ShipmentStatus } from '../../../src/checks/run.ts';
import type { CheckParams, Fix, ShipmentContext } from '../../../src/checks/types.ts';
import { indexRoute } from '../../../src/geo/route-index.ts';
import { buildPlannedRoute } from '../../../src/geo/routes.ts';
import type { TransportMode } from '../../../src/geo/types.ts';
import { geo } from '../../helpers/geo.ts';

export interface Raised {
  type: string;
  /** Hours from the scenario's incident to the fix that raised it. */
  afterIncidentH: number;
  /** The country the alert names (details.country), if any. */
  country?: string | null;
  /** The mode of the longest leg, and the tracker's report interval in it. */
  mode: TransportMode;
  reportIntervalS: number;
}

export function checkPlan(s: Scenario, plan: Plan, speedup = 3600): Raised[] {
  const sh = s.shipment!;
  const journey = plan.journey!;
  const longest = [...journey.motions].sort((a, b) => b.lengthKm - a.lengthKm)[0]!;
  const last = sh.legs.at(-1)!.to;
  const mode = longest.mode as TransportMode;
  const origin = { ...sh.origin, radiusKm: sh.origin.radiusKm ?? 25 };
  const destination = { ...last, radiusKm: last.radiusKm ?? 25 };
  const route = buildPlannedRoute({ mode, origin, destination, route: { legs: routeLegs(journey) } });
  const g = geo();
  const ctx: ShipmentContext = {
    shipmentId: 'shp-plan',
    mode,
    origin,
    destination,
    plannedStops: journey.dwells.filter((d) => d.transfer).map((d) => ({ ...d.at, radiusKm: 25 })),
    corridorKm: sh.corridorKm ?? 50,
    reportIntervalS: registration(s, plan, speedup).reportIntervalS,
    route: indexRoute(route),
    zones: g.zones(),
    ...zoneFilters(
      g.policy,
      sh.restrictedCountries ?? null,
      (sh.licenses ?? []).map((l) => l.country),
    ),
    params: defaultParams(mode, registration(s, plan, speedup).params as Partial<CheckParams>),
  };
  let state = initialShipmentState();
  let status: ShipmentStatus = 'planned';
  const raised: Raised[] = [];
  const open = new Set<string>();
  for (const a of plan.actions) {
    if (a.kind !== 'telemetry') continue;
    const run = runShipmentChecks(state, status, a.records as Fix[], ctx);
    state = run.state;
    status = run.status;
    for (const e of run.events) {
      if (e.action === 'resolve') open.delete(e.type);
      else if (!open.has(e.type)) {
        open.add(e.type);
        raised.push({
          type: e.type,
          afterIncidentH: Math.round(((e.at - plan.incidentAtMs) / 3_600_000) * 100) / 100,
          country: (e.details.country as string | null | undefined) ?? null,
          mode,
          reportIntervalS: sh.reportIntervalS?.[mode] ?? DEFAULT_REPORT_INTERVAL_S[mode],
        });
      }
    }
  }
  return raised;
}
