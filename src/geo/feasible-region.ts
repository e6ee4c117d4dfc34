// Where a site can really be, from its round-trip times to landmarks: the intersection of one disk per landmark.
//
// Light in vacuum covers 299.792458 km per millisecond, so a round trip of r ms proves the two ends are at most
// r·299.79/2 ≈ 150·r km apart, whatever the link. Extra delay (queues, relays, slow fibre) only makes r larger, so
// it can never make an honest claim look impossible: only the vacuum bound may accuse. Fibre (≈ 100·r km) is an
// estimate and never used here.
import type { Polygon } from 'geojson';
import { unwrapPositions } from './great-circle.ts';
import { destinationPoint, EARTH_RADIUS_KM, haversineKm, wrapLon } from './spherical.ts';
import type { LatLon, Position } from './types.ts';
import { cross, dot, fromVec3, normalize, toVec3, type Vec3 } from './vec3.ts';

export const LIGHT_KM_PER_MS = 299.792458;

/** The farthest a landmark can be from a site that measured `rttMs` to it. */
export function rttBoundKm(rttMs: number): number {
  return (rttMs * LIGHT_KM_PER_MS) / 2;
}

export interface Disk extends LatLon {
  landmarkId: string;
  radiusKm: number;
}

export type FeasibleRegion =
  | { kind: 'region'; polygon: Polygon; disks: number; note?: string }
  | { kind: 'unbounded'; disks: number; note: string }
  | { kind: 'empty'; disks: number; note: string };

/** Half the Earth's circumference: a disk this large covers everything and bounds nothing. */
const HALF_CIRCUMFERENCE_KM = Math.PI * EARTH_RADIUS_KM;
/** Beyond a hemisphere a disk is no longer convex on the sphere; it bounds almost nothing, so it is left out. */
const HEMISPHERE_KM = HALF_CIRCUMFERENCE_KM / 2;

const vec = (p: LatLon): Vec3 => toVec3(p.lat, p.lon);
/** Polygon coordinates to 5 decimals (≈ 1 m): plenty for a region measured in tens of km. */
const coord = (x: number) => Math.round(x * 1e5) / 1e5;

/**
 * The intersection of the disks (landmark, 150·rtt km): where the site can really be. Spherical caps smaller than a
 * hemisphere are convex, so their intersection is convex: its boundary is the part of each circle lying inside every
 * other disk, ordered by bearing around a point inside. `samples` points per circle.
 */
export function feasibleRegion(disks: Disk[], samples = 180): FeasibleRegion {
  const used = disks.filter((d) => d.radiusKm < HEMISPHERE_KM);
  if (used.length === 0) {
    return { kind: 'unbounded', disks: 0, note: 'no RTT bounds the site to less than a hemisphere' };
  }
  const inside = (p: LatLon, except: number, slackKm: number) =>
    used.every((d, j) => j === except || haversineKm(d, p) <= d.radiusKm + slackKm);
  const boundary: LatLon[] = [];
  // The corners where two circles cross, exactly: a sliver of overlap between sample points is not lost.
  used.forEach((d, i) => {
    used.forEach((e, j) => {
      if (j <= i) return;
      for (const p of circleCrossings(d, e))
        if (used.every((f, k) => k === i || k === j || haversineKm(f, p) <= f.radiusKm + 1e-3))
          boundary.push(p);
    });
  });
  const corners = boundary.length;
  // Densify when the region is small next to the circles (only corners, or a few samples, fall inside).
  for (const n of [samples, samples * 20]) {
    boundary.length = corners;
    used.forEach((d, i) => {
      for (let k = 0; k < n; k++) {
        const p = destinationPoint(d, (360 * k) / n, d.radiusKm);
        if (inside(p, i, 1e-6)) boundary.push(p);
      }
    });
    if (boundary.length - corners >= 12) break;
  }
  if (boundary.length < 3) {
    // Either one disk lies inside all others (its whole circle is then the region) or the disks do not meet.
    const smallest = [...used].sort((a, b) => a.radiusKm - b.radiusKm)[0]!;
    if (
      inside(smallest, -1, 0) &&
      used.every((d) => haversineKm(d, smallest) + smallest.radiusKm <= d.radiusKm + 1)
    ) {
      const ring: LatLon[] = [];
      for (let k = 0; k < samples; k++)
        ring.push(destinationPoint(smallest, (360 * k) / samples, smallest.radiusKm));
      return { kind: 'region', polygon: toPolygon(ring), disks: used.length };
    }
    return {
      kind: 'empty',
      disks: used.length,
      note: 'the RTT disks do not intersect: no place on Earth fits every measurement',
    };
  }
  // Order by angle around the boundary's mean direction (inside a convex region).
  const centre = normalize(
    boundary.map(vec).reduce<Vec3>((s, v) => [s[0] + v[0], s[1] + v[1], s[2] + v[2]], [0, 0, 0]),
  );
  // Two axes of the tangent plane at the centre.
  const ref: Vec3 = Math.abs(centre[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const e1 = normalize(cross(ref, centre));
  const e2 = cross(centre, e1);
  const angle = (p: LatLon) => {
    const v = vec(p);
    return Math.atan2(dot(v, e2), dot(v, e1));
  };
  const ordered = boundary.map((p) => ({ p, a: angle(p) })).sort((x, y) => x.a - y.a);
  // A region around a pole cannot be one ring of lon/lat without passing over the pole: close it there.
  for (const poleLat of [90, -90]) {
    const pole = { lat: poleLat, lon: 0 };
    if (inside(pole, -1, 0)) {
      return {
        kind: 'region',
        polygon: polarPolygon(
          ordered.map((o) => o.p),
          poleLat,
        ),
        disks: used.length,
      };
    }
  }
  return { kind: 'region', polygon: toPolygon(ordered.map((o) => o.p)), disks: used.length };
}

/** The (0, 1 or 2) points where two circles on the sphere cross. */
function circleCrossings(a: Disk, b: Disk): LatLon[] {
  const c1 = vec(a);
  const c2 = vec(b);
  const d = dot(c1, c2);
  const cr1 = Math.cos(a.radiusKm / EARTH_RADIUS_KM);
  const cr2 = Math.cos(b.radiusKm / EARTH_RADIUS_KM);
  const den = 1 - d * d;
  if (den < 1e-12) return [];
  const x = (cr1 - d * cr2) / den;
  const y = (cr2 - d * cr1) / den;
  const base: Vec3 = [x * c1[0] + y * c2[0], x * c1[1] + y * c2[1], x * c1[2] + y * c2[2]];
  const q = dot(base, base);
  if (q > 1) return [];
  const axis = cross(c1, c2);
  const t = Math.sqrt((1 - q) / dot(axis, axis));
  return [1, -1].map((sign) =>
    fromVec3([base[0] + sign * t * axis[0], base[1] + sign * t * axis[1], base[2] + sign * t * axis[2]]),
  );
}

/** A ring around a pole: the boundary by longitude from −180 to 180, closed along the pole's edge. */
function polarPolygon(boundary: LatLon[], poleLat: number): Polygon {
  const byLon = [...boundary].sort((p, q) => (poleLat > 0 ? p.lon - q.lon : q.lon - p.lon));
  const first = poleLat > 0 ? -180 : 180;
  const coords: Position[] = [
    [first, poleLat],
    ...byLon.map((p): Position => [coord(p.lon), coord(p.lat)]),
    [-first, poleLat],
  ];
  coords.push(coords[0]!);
  return { type: 'Polygon', coordinates: [coords] };
}

function toPolygon(ring: LatLon[]): Polygon {
  // Longitudes unwrapped along the ring so a region across ±180 stays one ring (RFC 7946 allows readers to
  // wrap; Leaflet draws it continuous).
  const coords = unwrapPositions(ring.map((p): Position => [p.lon, p.lat])).map(
    ([lon, lat]): Position => [coord(lon), coord(lat)],
  );
  coords.push(coords[0]!);
  return { type: 'Polygon', coordinates: [coords] };
}

/** Points spread over the region (its boundary and a grid inside), for asking which zones it touches. */
export function samplePoints(region: Polygon, gridSteps = 24): LatLon[] {
  const ring = region.coordinates[0]!.map(([lon, lat]) => ({ lat: lat!, lon: lon! }));
  const lats = ring.map((p) => p.lat);
  const lons = ring.map((p) => p.lon);
  const [minLat, maxLat, minLon, maxLon] = [
    Math.min(...lats),
    Math.max(...lats),
    Math.min(...lons),
    Math.max(...lons),
  ];
  const wrapped = (p: LatLon): LatLon => ({ lat: p.lat, lon: wrapLon(p.lon) });
  const points: LatLon[] = ring.map(wrapped);
  for (let i = 0; i <= gridSteps; i++) {
    for (let j = 0; j <= gridSteps; j++) {
      const p = {
        lat: minLat + ((maxLat - minLat) * i) / gridSteps,
        lon: minLon + ((maxLon - minLon) * j) / gridSteps,
      };
      if (inRing(p, ring)) points.push(wrapped(p));
    }
  }
  return points;
}

/** Even-odd test of p against a ring in plane lon/lat (longitudes continuous along the ring). */
function inRing(p: LatLon, ring: LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!;
    const b = ring[j]!;
    if (
      a.lat > p.lat !== b.lat > p.lat &&
      p.lon < ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon
    ) {
      inside = !inside;
    }
  }
  return inside;
}
