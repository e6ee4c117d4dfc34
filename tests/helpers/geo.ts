// Real geography for check tests: the default policy and Natural Earth zones (loaded once), routes built like the API does.

import { zoneFilters } from '../../src/checks/context.ts';
import { defaultParams } from '../../src/checks/params.ts';
import {
  initialShipmentState,
  runShipmentChecks,
  type ShipmentState,
  type ShipmentStatus,
} from '../../src/checks/run.ts';
import type { CheckParams, Fix, Place, ShipmentContext } from '../../src/checks/types.ts';
import type { AlertEvent } from '../../src/domain/alerts.ts';
import { indexRoute } from '../../src/geo/route-index.ts';
import { buildPlannedRoute } from '../../src/geo/routes.ts';
import { createGeoRuntime, type GeoRuntime } from '../../src/geo/runtime.ts';
import { destinationPoint, haversineKm, initialBearingDeg } from '../../src/geo/spherical.ts';
import type { LatLon, Position, TransportMode } from '../../src/geo/types.ts';

let runtime: GeoRuntime | undefined;
export function geo(): GeoRuntime {
  runtime ??= createGeoRuntime();
  return runtime;
}

export function context(opts: {
  mode: TransportMode;
  origin: Place;
  destination: Place;
  route?: Position[];
  corridorKm?: number;
  reportIntervalS?: number;
  params?: Partial<CheckParams>;
  restrictedCountries?: string[];
  licensed?: string[];
  plannedStops?: Place[];
}): ShipmentContext {
  const g = geo();
  const planned = buildPlannedRoute({
    mode: opts.mode,
    origin: opts.origin,
    destination: opts.destination,
    ...(opts.route ? { route: { type: 'LineString' as const, coordinates: opts.route } } : {}),
  });
  return {
    shipmentId: 'shp-test',
    mode: opts.mode,
    origin: opts.origin,
    destination: opts.destination,
    plannedStops: opts.plannedStops ?? [],
    corridorKm: opts.corridorKm ?? 50,
    reportIntervalS: opts.reportIntervalS ?? 1800,
    route: indexRoute(planned),
    zones: g.zones(),
    ...zoneFilters(g.policy, opts.restrictedCountries ?? null, opts.licensed ?? []),
    params: defaultParams(opts.mode, opts.params),
  };
}

/** Fixes every `everyMin` minutes moving from `from` on `bearingDeg` at `speedKmh`. */
export function leg(
  from: LatLon & { ts: number },
  bearingDeg: number,
  speedKmh: number,
  count: number,
  everyMin: number,
): Fix[] {
  return Array.from({ length: count }, (_, i) => {
    const km = (speedKmh * everyMin * (i + 1)) / 60;
    const p = destinationPoint(from, bearingDeg, km);
    return {
      ts: from.ts + (i + 1) * everyMin * 60_000,
      lat: p.lat,
      lon: p.lon,
      speedKmh,
      satellites: 9,
      hdop: 0.9,
    };
  });
}

/** Feeds fixes one by one, as separate messages would arrive; returns every event with the index of its fix. */
export function feed(
  ctx: ShipmentContext,
  fixes: Fix[],
  start: { state?: ShipmentState; status?: ShipmentStatus } = {},
) {
  let state = start.state ?? initialShipmentState();
  let status: ShipmentStatus = start.status ?? 'planned';
  const events: (AlertEvent & { fixIndex: number })[] = [];
  const flags: string[][] = [];
  fixes.forEach((f, i) => {
    const run = runShipmentChecks(state, status, [f], ctx);
    state = run.state;
    status = run.status;
    events.push(...run.events.map((e) => ({ ...e, fixIndex: i })));
    flags.push(run.flags.get(0) ?? []);
  });
  return {
    state,
    status,
    events,
    flags,
    raised: (type: string) => events.filter((e) => e.type === type && e.action === 'raise'),
  };
}

/** Fixes along a polyline ([lon, lat], unwrapped) at `speedKmh`, one every `everyMin`, starting at `startTs`. */
export function alongRoute(coords: Position[], speedKmh: number, everyMin: number, startTs: number): Fix[] {
  const stepKm = (speedKmh * everyMin) / 60;
  const out: Fix[] = [];
  let ts = startTs;
  let carry = 0;
  for (let i = 1; i < coords.length; i++) {
    const a = { lat: coords[i - 1]![1], lon: coords[i - 1]![0] };
    const b = { lat: coords[i]![1], lon: coords[i]![0] };
    const segKm = haversineKm(a, b);
    let at = carry;
    while (at <= segKm) {
      const p = segKm === 0 ? a : destinationPoint(a, initialBearingDeg(a, b), at);
      out.push({
        ts,
        lat: p.lat,
        lon: ((((p.lon + 180) % 360) + 360) % 360) - 180,
        speedKmh,
        satellites: 10,
        hdop: 0.8,
      });
      ts += everyMin * 60_000;
      at += stepKm;
    }
    carry = at - segKm;
  }
  return out;
}
