// Planned routes: build one from a shipment's given or left-out route, validate it, and render it as GeoJSON.
// Legs are stored with continuous longitudes (may pass ±180) so lengths and indexes need no antimeridian case;
// GeoJSON going out is normalised and cut at ±180 as RFC 7946 §3.1.9 asks.
import * as turf from '@turf/turf';
import type { Feature, LineString, MultiLineString, MultiPolygon, Polygon } from 'geojson';
import { AppError } from '../domain/errors.ts';
import {
  cutAtAntimeridian,
  densifyUnwrapped,
  pathLengthKm,
  unwrapLon,
  unwrapPositions,
} from './great-circle.ts';
import { seaRoute } from './sea-route.ts';
import type { LatLon, PlannedRoute, Position, RouteLeg, TransportMode } from './types.ts';

/** Spacing of a computed air route's points: the great circle stays visibly curved on a flat map. */
export const AIR_DENSIFY_KM = 50;
const MODES: readonly TransportMode[] = ['sea', 'air', 'road'];

export type RouteGeometryInput =
  | LineString
  | MultiLineString
  | { legs: { mode: TransportMode; coordinates: Position[] }[] };

export interface PlannedRouteInput {
  mode: TransportMode;
  origin: LatLon;
  destination: LatLon;
  route?: RouteGeometryInput;
}

function invalid(message: string): never {
  throw new AppError('VALIDATION_FAILED', message);
}

function checkLatLon(lat: unknown, lon: unknown, where: string): void {
  if (typeof lat !== 'number' || !Number.isFinite(lat)) invalid(`${where}: latitude must be a finite number`);
  if (typeof lon !== 'number' || !Number.isFinite(lon))
    invalid(`${where}: longitude must be a finite number`);
  if (lat < -90 || lat > 90) invalid(`${where}: latitude ${lat} is outside [-90, 90]`);
  if (lon < -180 || lon > 180) invalid(`${where}: longitude ${lon} is outside [-180, 180]`);
}

/** Positions of one line, checked; an altitude (third number) is allowed and dropped. */
function readPositions(raw: unknown, where: string): Position[] {
  if (!Array.isArray(raw)) invalid(`${where} must be an array of [lon, lat] positions`);
  if (raw.length < 2) invalid(`${where} needs at least 2 positions, got ${raw.length}`);
  return raw.map((p: unknown, i) => {
    if (!Array.isArray(p) || p.length < 2) invalid(`${where}[${i}] must be a [lon, lat] position`);
    checkLatLon(p[1], p[0], `${where}[${i}]`);
    return [p[0] as number, p[1] as number];
  });
}

/** Joins lines that RFC 7946 cut at the antimeridian (one ends on ±180, the next starts there, same latitude). */
function joinAntimeridianCuts(lines: Position[][]): Position[][] {
  const out: Position[][] = [];
  for (const line of lines) {
    const prev = out.at(-1);
    const end = prev?.at(-1);
    const start = line[0]!;
    if (
      prev &&
      end &&
      Math.abs(end[0]) === 180 &&
      Math.abs(start[0]) === 180 &&
      Math.abs(end[1] - start[1]) < 1e-6
    ) {
      prev.push(...line.slice(1));
    } else {
      out.push([...line]);
    }
  }
  return out;
}

function givenLegs(
  mode: TransportMode,
  route: RouteGeometryInput,
): { mode: TransportMode; coordinates: Position[] }[] {
  const r = route as { type?: unknown; coordinates?: unknown; legs?: unknown };
  if (r.type === 'LineString')
    return [{ mode, coordinates: readPositions(r.coordinates, 'route.coordinates') }];
  if (r.type === 'MultiLineString') {
    if (!Array.isArray(r.coordinates) || r.coordinates.length === 0) {
      invalid('route.coordinates must be a non-empty array of lines');
    }
    const lines = r.coordinates.map((line: unknown, i) => readPositions(line, `route.coordinates[${i}]`));
    return joinAntimeridianCuts(lines).map((coordinates) => ({ mode, coordinates }));
  }
  if (Array.isArray(r.legs)) {
    if (r.legs.length === 0) invalid('route.legs must hold at least one leg');
    return r.legs.map((leg: { mode?: unknown; coordinates?: unknown } | null, i) => {
      const legMode = leg?.mode;
      if (!MODES.includes(legMode as TransportMode))
        invalid(`route.legs[${i}].mode must be one of ${MODES.join(', ')}`);
      return {
        mode: legMode as TransportMode,
        coordinates: readPositions(leg?.coordinates, `route.legs[${i}].coordinates`),
      };
    });
  }
  return invalid('route must be a GeoJSON LineString or MultiLineString, or {"legs": [...]}');
}

function computedLeg(mode: TransportMode, origin: LatLon, destination: LatLon): RouteLeg {
  if (mode === 'sea') return { mode, coordinates: seaRoute(origin, destination) };
  if (mode === 'air') {
    return {
      mode,
      coordinates: densifyUnwrapped(origin, destination, AIR_DENSIFY_KM).map((p) => [p.lon, p.lat]),
    };
  }
  return invalid('a road route must be given');
}

/** The shipment's planned route; throws AppError VALIDATION_FAILED (HTTP 422) naming what is wrong. */
export function buildPlannedRoute(input: PlannedRouteInput): PlannedRoute {
  if (!MODES.includes(input.mode)) invalid(`mode must be one of ${MODES.join(', ')}`);
  checkLatLon(input.origin?.lat, input.origin?.lon, 'origin');
  checkLatLon(input.destination?.lat, input.destination?.lon, 'destination');
  const raw = input.route
    ? givenLegs(input.mode, input.route)
    : [computedLeg(input.mode, input.origin, input.destination)];
  // Each leg continues the previous one's longitudes, so the whole route is one continuous unwrapped path.
  const legs: RouteLeg[] = [];
  let refLon: number | undefined;
  for (const leg of raw) {
    const coordinates = unwrapPositions(leg.coordinates, refLon);
    refLon = coordinates.at(-1)![0];
    legs.push({ mode: leg.mode, coordinates });
  }
  return { legs, lengthKm: legs.reduce((km, leg) => km + pathLengthKm(leg.coordinates), 0) };
}

/** The route as one RFC 7946 MultiLineString: longitudes in [-180, 180], lines cut at the antimeridian. */
export function routeToGeoJSON(route: PlannedRoute): MultiLineString {
  return {
    type: 'MultiLineString',
    coordinates: route.legs.flatMap((leg) => cutAtAntimeridian(leg.coordinates)),
  };
}

/** Spacing and length of the pieces buffered for display (see corridorPolygon). */
const CORRIDOR_STEP_KM = 100;
const CORRIDOR_PIECE_POINTS = 20;

/** A leg's points with at most `stepKm` between neighbours, along great circles, longitudes unwrapped. */
function densifyPath(coords: readonly Position[], stepKm: number): Position[] {
  const out: Position[] = [];
  for (let i = 1; i < coords.length; i++) {
    const [aLon, aLat] = coords[i - 1]!;
    const [bLon, bLat] = coords[i]!;
    const pts = densifyUnwrapped({ lon: aLon, lat: aLat }, { lon: bLon, lat: bLat }, stepKm);
    for (const p of i === 1 ? pts : pts.slice(1)) out.push([p.lon, p.lat]);
  }
  return out;
}

/** Polygon rings with longitudes made continuous around `refLon`, then clipped to each world copy and shifted home. */
function clipToWorld(rings: Position[][], refLon: number): Polygon[] {
  const unwrapped = rings.map((ring) => ring.map(([lon, lat]): Position => [unwrapLon(refLon, lon), lat]));
  const lons = unwrapped.flat().map((p) => p[0]);
  const out: Polygon[] = [];
  const lo = Math.floor((Math.min(...lons) + 180) / 360);
  const hi = Math.floor((Math.max(...lons) + 180) / 360);
  for (let k = lo; k <= hi; k++) {
    const box: [number, number, number, number] = [-180 + 360 * k, -90, 180 + 360 * k, 90];
    // A convex clip (Sutherland–Hodgman) of a polygon gives a polygon; empty rings mean nothing in this copy.
    const clipped = turf.bboxClip(turf.polygon(unwrapped), box).geometry as Polygon;
    const rs = clipped.coordinates
      .filter((r) => r.length >= 4)
      .map((r) => r.map(([lon, lat]) => [lon! - 360 * k, lat!]));
    if (rs.length > 0 && clipped.coordinates[0]!.length >= 4) out.push({ type: 'Polygon', coordinates: rs });
  }
  return out;
}

/**
 * The corridor, `corridorKm` either side of the route, for display (checks use the route index, not this).
 * turf.buffer projects about the buffered feature's centre, which distorts widths thousands of km away, so each
 * leg is buffered in pieces of ≤ ~2,000 km (scale error there < 1 %) and the pieces are unioned. Polar caps are not handled.
 */
export function corridorPolygon(route: PlannedRoute, corridorKm: number): Polygon | MultiPolygon {
  if (!Number.isFinite(corridorKm) || corridorKm <= 0)
    invalid(`corridorKm must be a positive number, got ${corridorKm}`);
  const pieces: Feature<Polygon>[] = [];
  for (const leg of route.legs) {
    const pts = densifyPath(leg.coordinates, CORRIDOR_STEP_KM);
    for (let i = 0; i < pts.length - 1; i += CORRIDOR_PIECE_POINTS - 1) {
      const piece = pts.slice(i, i + CORRIDOR_PIECE_POINTS);
      const buffered = turf.buffer(turf.lineString(piece), corridorKm, { units: 'kilometers', steps: 8 });
      const geom = buffered?.geometry;
      if (!geom) continue;
      const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
      for (const rings of polys) {
        for (const p of clipToWorld(rings as Position[][], piece[0]![0])) pieces.push(turf.feature(p));
      }
    }
  }
  if (pieces.length === 0) return { type: 'MultiPolygon', coordinates: [] };
  const merged = pieces.length === 1 ? pieces[0] : turf.union(turf.featureCollection(pieces));
  return merged?.geometry ?? { type: 'MultiPolygon', coordinates: [] };
}
