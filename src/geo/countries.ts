// Country zones from Natural Earth (npm world-atlas): one zone per ISO alpha-2 code, with the policy's tier,
// rings cut at the antimeridian so planar point-in-polygon is right everywhere.
//
// Default resolution: 10m. Measured with bench/zones.bench.ts on this 2-core machine (medians, noisy):
//   50m:  98k edges, load + build ≈ 0.25 s, 15 MB retained (8 MB the index alone), zonesAt ≈ 1.2–1.7 µs,
//         nearest restricted within 2000 km ≈ 24 µs;
//   10m: 541k edges, load + build ≈ 0.75 s, 73 MB retained (27 MB the index alone), zonesAt ≈ 1.1–2.2 µs,
//         nearest restricted within 2000 km ≈ 74 µs.
// Both agree with d3-geo on every random land point tried at their own resolution, so speed is no reason to
// choose. Coastlines are: shipments end in ports, and the 50m Macau polygon lies ~3 km off the real one (a
// fix in Macau falls in no zone at all); of 32 restricted-country ports, 50m misses the restricted zone by
// up to 4.6 km, 10m by at most 2 km (Yangshan, an island port missing from both, aside). 10m also has the
// small entities (Baikonur, the Spratlys). Half a second and ~60 MB per process buy that; 50m remains a
// choice (ZONES_RESOLUTION=50m) for tests and small machines.
//
// The trap this file exists to avoid: world-atlas rings are spherical. Russia's, Fiji's and Antarctica's
// cross ±180° with 360° jump edges, so a planar test puts northern Finland in Russia and Murmansk outside
// it. cutAtAntimeridian() unwraps each such ring, closes rings that circle a pole along that pole, and clips
// the result to [-180, 180] (RFC 7946 §3.1.9). Cut lines lie exactly on ±180° or ±90°, which is how the
// zone index tells them from real borders.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Feature, FeatureCollection, MultiPolygon, Polygon, Position } from 'geojson';
import countries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';
import type { Policy } from './policy.ts';
import type { Zone, ZoneInput } from './types.ts';

export type Resolution = '50m' | '10m';

const require = createRequire(import.meta.url);

/** The raw world-atlas country features (spherical rings, not cut), with numeric `id` and `properties.name`. */
export function loadWorldFeatures(
  resolution: Resolution,
): FeatureCollection<Polygon | MultiPolygon, { name: string }> {
  const path = require.resolve(`world-atlas/countries-${resolution}.json`);
  const topology = JSON.parse(readFileSync(path, 'utf8')) as Topology;
  const object = topology.objects.countries;
  if (object === undefined || object.type !== 'GeometryCollection') {
    throw new Error(`${path}: no 'countries' GeometryCollection`);
  }
  return feature(topology, object) as FeatureCollection<Polygon | MultiPolygon, { name: string }>;
}

/**
 * One zone per country (ISO alpha-2 id) or per entity the policy lists without a code (name key such as
 * `XK-Kosovo`), tier from the policy. A feature with neither an ISO id nor a policy entry is an error:
 * every piece of land gets a tier someone decided.
 */
export function loadCountryZones(policy: Policy, resolution: Resolution = '10m'): ZoneInput[] {
  const byId = new Map<string, { zone: Zone; polygons: Position[][][] }>();
  for (const f of loadWorldFeatures(resolution).features) {
    const zone = zoneFor(f, policy);
    const cut = cutAtAntimeridian(f.geometry);
    const polygons = cut.type === 'Polygon' ? [cut.coordinates] : cut.coordinates;
    const existing = byId.get(zone.id);
    if (existing) existing.polygons.push(...polygons);
    else byId.set(zone.id, { zone, polygons });
  }
  return [...byId.values()].map(({ zone, polygons }) => ({
    zone,
    geometry:
      polygons.length === 1 && polygons[0]
        ? { type: 'Polygon', coordinates: polygons[0] }
        : { type: 'MultiPolygon', coordinates: polygons },
  }));
}

function zoneFor(f: Feature<Polygon | MultiPolygon, { name: string }>, policy: Policy): Zone {
  const name = f.properties.name;
  if (f.id !== undefined) {
    const alpha2 = countries.numericToAlpha2(f.id);
    if (!alpha2) throw new Error(`world-atlas feature '${name}' has numeric id ${f.id} with no alpha-2 code`);
    return { id: alpha2, name, kind: 'country', tier: policy.tierOf(alpha2), country: alpha2 };
  }
  const entity = policy.entitiesByName.get(name);
  if (!entity) {
    throw new Error(
      `world-atlas feature '${name}' has neither an ISO id nor a policy entitiesWithoutCode entry`,
    );
  }
  const zone: Zone = { id: entity.key, name, kind: 'country', tier: entity.tier };
  if (entity.country !== undefined) zone.country = entity.country;
  return zone;
}

/**
 * Rewrites spherical rings that cross ±180° as planar pieces within [-180, 180]; polygons that need no cut
 * are returned as they are. Rings lying wholly within 0.01° of a pole are dropped: world-atlas 50m wraps
 * Antarctica in such a cap ring, which encloses nothing a tracker can reach.
 */
export function cutAtAntimeridian(geometry: Polygon | MultiPolygon): Polygon | MultiPolygon {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  if (!polygons.some(needsCut)) return geometry;
  const out: Position[][][] = [];
  for (const polygon of polygons) {
    if (!needsCut(polygon)) {
      out.push(polygon);
      continue;
    }
    const pieces = polygon.filter((ring) => !isPoleCap(ring)).flatMap(cutRing);
    out.push(...groupOutersAndHoles(pieces));
  }
  return out.length === 1 && out[0]
    ? { type: 'Polygon', coordinates: out[0] }
    : { type: 'MultiPolygon', coordinates: out };
}

function needsCut(polygon: Position[][]): boolean {
  return polygon.some((ring) =>
    ring.some((p, i) => {
      const q = ring[i === 0 ? ring.length - 1 : i - 1]!;
      return Math.abs(p[0]! - q[0]!) > 180 || Math.abs(p[0]!) > 180;
    }),
  );
}

function isPoleCap(ring: Position[]): boolean {
  return ring.every((p) => Math.abs(p[1]!) > 89.99);
}

/** Unwraps a ring to continuous longitudes, closes it along a pole if it circles one, clips it to the map. */
function cutRing(ring: Position[]): Position[][] {
  const pts = ring.slice(0, samePoint(ring[0], ring[ring.length - 1]) ? -1 : undefined);
  const n = pts.length;
  if (n < 3) return [];
  const u: Array<[number, number]> = [];
  let offset = 0;
  for (let i = 0; i <= n; i++) {
    const p = pts[i % n]!;
    if (i > 0) {
      const d = p[0]! - pts[i - 1]![0]!;
      if (d > 180) offset -= 360;
      else if (d < -180) offset += 360;
    }
    u.push([p[0]! + offset, p[1]!]);
  }
  // u[n] repeats u[0], shifted by 360° when the ring circles a pole.
  const wraps = offset !== 0;
  const path = wraps ? rotateToMeridian(u, Math.sign(offset)) : u;
  if (wraps) {
    const meanLat = pts.reduce((s, p) => s + p[1]!, 0) / n;
    const pole = meanLat < 0 ? -90 : 90;
    const start = path[0]!;
    const end = path[path.length - 1]!;
    path.push([end[0], pole], [start[0], pole], [start[0], start[1]]);
  }
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  for (const p of path) {
    minX = Math.min(minX, p[0]);
    maxX = Math.max(maxX, p[0]);
  }
  const pieces: Position[][] = [];
  for (const shift of [-360, 0, 360]) {
    if (maxX + shift <= -180 || minX + shift >= 180) continue;
    const shifted = path.map(([x, y]): [number, number] => [x + shift, y]);
    const clipped = clipX(clipX(shifted, -180, 1), 180, -1);
    if (clipped.length >= 3) pieces.push([...clipped, clipped[0]!]);
  }
  return pieces;
}

/**
 * A ring circling a pole, unwrapped, runs from x0 to x0 ± 360. Restart it where it first meets ±180°
 * (a line x = 180 + 360k, the first one at or beyond x0 in its direction of travel) and shift it to run
 * from one edge of the map to the other: the pole closure then lies on the map's edges, not across land.
 */
function rotateToMeridian(u: Array<[number, number]>, dir: number): Array<[number, number]> {
  const x0 = u[0]![0];
  const target = 180 + 360 * (dir > 0 ? Math.ceil((x0 - 180) / 360) : Math.floor((x0 - 180) / 360));
  const back = (dir > 0 ? -180 : 180) - target;
  const shift = (points: Array<[number, number]>, by: number) =>
    points.map(([x, y]): [number, number] => [x + by, y]);
  if (x0 === target) return shift(u, back);
  for (let j = 0; j + 1 < u.length; j++) {
    const [ax, ay] = u[j]!;
    const [bx, by] = u[j + 1]!;
    if ((ax - target) * (bx - target) > 0) continue;
    const c: [number, number] = [target, bx === target ? by : ay + ((target - ax) / (bx - ax)) * (by - ay)];
    const tail = u.slice(j + 1);
    const head = shift(u.slice(1, j + 1), 360 * dir);
    return shift([c, ...tail, ...head, [c[0] + 360 * dir, c[1]]], back);
  }
  throw new Error('a ring circling a pole never meets the antimeridian');
}

/** Sutherland–Hodgman against one vertical line: keeps the side where side·(x − at) ≥ 0. */
function clipX(ring: Array<[number, number]>, at: number, side: number): Array<[number, number]> {
  const open = samePoint(ring[0], ring[ring.length - 1]) ? ring.slice(0, -1) : ring;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < open.length; i++) {
    const s = open[i]!;
    const e = open[(i + 1) % open.length]!;
    const sIn = side * (s[0] - at) >= 0;
    const eIn = side * (e[0] - at) >= 0;
    if (sIn) out.push(s);
    if (sIn !== eIn) {
      const t = (at - s[0]) / (e[0] - s[0]);
      out.push([at, s[1] + t * (e[1] - s[1])]);
    }
  }
  return out;
}

/**
 * Cut pieces lose their outer/hole roles (a spherical hole may become a planar outer). Recover them by
 * nesting depth: a piece inside an odd number of others is a hole of its innermost container.
 */
function groupOutersAndHoles(pieces: Position[][]): Position[][][] {
  const depth = pieces.map((piece, i) => {
    const probe = piece.find((p) => Math.abs(p[0]!) < 180 && Math.abs(p[1]!) < 90) ?? piece[0]!;
    return pieces.filter((other, j) => j !== i && ringContains(other, probe)).length;
  });
  const polygons = new Map<number, Position[][]>();
  pieces.forEach((piece, i) => {
    if (depth[i]! % 2 === 0) polygons.set(i, [piece]);
  });
  pieces.forEach((piece, i) => {
    if (depth[i]! % 2 === 0) return;
    const probe = piece.find((p) => Math.abs(p[0]!) < 180) ?? piece[0]!;
    const outer = [...polygons.keys()].find(
      (j) => depth[j] === depth[i]! - 1 && ringContains(pieces[j]!, probe),
    );
    if (outer !== undefined) polygons.get(outer)!.push(piece);
  });
  return [...polygons.values()];
}

/** Planar even-odd test, used only to classify cut pieces. */
function ringContains(ring: Position[], p: Position): boolean {
  const [x, y] = [p[0]!, p[1]!];
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = [ring[i]![0]!, ring[i]![1]!];
    const [xj, yj] = [ring[j]![0]!, ring[j]![1]!];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function samePoint(a: Position | undefined, b: Position | undefined): boolean {
  return a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1];
}
