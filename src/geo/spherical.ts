// Great-circle helpers shared by the zone and route indexes: distances, bearings, interpolation, search boxes.
// Everything works on a sphere of the mean Earth radius: errors against the ellipsoid stay under ~0.5 %,
// far below the kilometre-scale thresholds the checks use.
import type { LatLon } from './types.ts';
import { cross, toVec3 } from './vec3.ts';

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** Longitude moved into [-180, 180) by a multiple of 360 (+180 becomes -180). */
export function wrapLon(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

/** Longitude moved into [-180, 180]; ±180 stay as given. */
export function normalizeLon(lon: number): number {
  return lon >= -180 && lon <= 180 ? lon : wrapLon(lon);
}

/** Great-circle distance between two points, km (haversine: accurate for tiny and large separations alike). */
export function haversineKm(a: LatLon, b: LatLon): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing of the great circle from a to b, degrees clockwise from north in [0, 360). */
export function initialBearingDeg(a: LatLon, b: LatLon): number {
  const φ1 = a.lat * RAD;
  const φ2 = b.lat * RAD;
  const dλ = (b.lon - a.lon) * RAD;
  const y = Math.sin(dλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(dλ);
  return (Math.atan2(y, x) * DEG + 360) % 360;
}

/** The point reached from p after distanceKm along the great circle leaving at bearingDeg (clockwise from north). */
export function destinationPoint(p: LatLon, bearingDeg: number, distanceKm: number): LatLon {
  const δ = distanceKm / EARTH_RADIUS_KM;
  const θ = bearingDeg * RAD;
  const φ1 = p.lat * RAD;
  const sinφ2 = Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ);
  const φ2 = Math.asin(Math.max(-1, Math.min(1, sinφ2)));
  const λ2 =
    p.lon * RAD + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * sinφ2);
  return { lat: φ2 * DEG, lon: wrapLon(λ2 * DEG) };
}

/** Great-circle distance from p to the minor arc a→b, km. */
export function pointToSegmentKm(p: LatLon, a: LatLon, b: LatLon): number {
  return pointToArcKm(p.lat, p.lon, a.lat, a.lon, b.lat, b.lon);
}

/** Same as pointToSegmentKm on bare degrees. */
export function pointToArcKm(
  pLat: number,
  pLon: number,
  aLat: number,
  aLon: number,
  bLat: number,
  bLon: number,
): number {
  // The unit vectors as toVec3 makes them, without arrays: a look-ahead measures this at every step.
  const cp = Math.cos(pLat * RAD);
  const ca = Math.cos(aLat * RAD);
  const cb = Math.cos(bLat * RAD);
  return pointToArcKmVec(
    cp * Math.cos(pLon * RAD),
    cp * Math.sin(pLon * RAD),
    Math.sin(pLat * RAD),
    ca * Math.cos(aLon * RAD),
    ca * Math.sin(aLon * RAD),
    Math.sin(aLat * RAD),
    cb * Math.cos(bLon * RAD),
    cb * Math.sin(bLon * RAD),
    Math.sin(bLat * RAD),
  );
}

/**
 * Distance from unit vector p to the minor arc between unit vectors a and b, km; for callers that keep
 * vertices as unit vectors (no trigonometry per call). The cross-track distance applies when p projects
 * inside the arc, else the distance to the nearer end.
 */
export function pointToArcKmVec(
  px: number,
  py: number,
  pz: number,
  ax: number,
  ay: number,
  az: number,
  bx: number,
  by: number,
  bz: number,
): number {
  // n = a × b, the pole of the arc's great circle.
  let nx = ay * bz - az * by;
  let ny = az * bx - ax * bz;
  let nz = ax * by - ay * bx;
  const nn = Math.sqrt(nx * nx + ny * ny + nz * nz);
  if (nn > 1e-15) {
    nx /= nn;
    ny /= nn;
    nz /= nn;
    // p projects inside the arc when it lies on the inner side of both end meridians of the arc:
    // p·(n×a) ≥ 0 and p·(b×n) ≥ 0.
    const inA = px * (ny * az - nz * ay) + py * (nz * ax - nx * az) + pz * (nx * ay - ny * ax);
    const inB = px * (by * nz - bz * ny) + py * (bz * nx - bx * nz) + pz * (bx * ny - by * nx);
    if (inA >= 0 && inB >= 0) {
      const s = Math.abs(px * nx + py * ny + pz * nz);
      return Math.asin(Math.min(1, s)) * EARTH_RADIUS_KM;
    }
  }
  // Nearer end by chord length (monotonic in angle), then one asin: cheaper than two atan2 calls.
  const ca = (px - ax) ** 2 + (py - ay) ** 2 + (pz - az) ** 2;
  const cb = (px - bx) ** 2 + (py - by) ** 2 + (pz - bz) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(Math.min(ca, cb)) / 2)) * EARTH_RADIUS_KM;
}

/** The point a fraction f of the way along the great circle from a to b (spherical linear interpolation). */
export function interpolateGreatCircle(a: LatLon, b: LatLon, f: number): LatLon {
  // toVec3, centralAngleRad and fromVec3 written out on numbers: the same arithmetic, no arrays.
  const φa = a.lat * RAD;
  const λa = a.lon * RAD;
  const φb = b.lat * RAD;
  const λb = b.lon * RAD;
  const ax = Math.cos(φa) * Math.cos(λa);
  const ay = Math.cos(φa) * Math.sin(λa);
  const az = Math.sin(φa);
  const bx = Math.cos(φb) * Math.cos(λb);
  const by = Math.cos(φb) * Math.sin(λb);
  const bz = Math.sin(φb);
  const δ = 2 * Math.asin(Math.min(1, Math.hypot(ax - bx, ay - by, az - bz) / 2));
  if (δ < 1e-12) return { lat: a.lat, lon: a.lon };
  const wa = Math.sin((1 - f) * δ) / Math.sin(δ);
  const wb = Math.sin(f * δ) / Math.sin(δ);
  const x = wa * ax + wb * bx;
  const y = wa * ay + wb * by;
  const z = wa * az + wb * bz;
  return { lat: Math.atan2(z, Math.hypot(x, y)) * DEG, lon: Math.atan2(y, x) * DEG };
}

/** Points along the great circle a→b, ends included, no two consecutive ones more than maxStepKm apart. */
export function densifyGreatCircle(a: LatLon, b: LatLon, maxStepKm: number): LatLon[] {
  const steps = Math.max(1, Math.ceil(haversineKm(a, b) / maxStepKm));
  const out: LatLon[] = [a];
  for (let i = 1; i < steps; i++) out.push(interpolateGreatCircle(a, b, i / steps));
  out.push(b);
  return out;
}

/** A lat/lon box, degrees; lon ranges are already split at ±180 and lie within [-180, 180]. */
export interface CapBox {
  minLat: number;
  maxLat: number;
  lonRanges: Array<[number, number]>;
}

/**
 * Half-width in longitude, degrees, of the spherical cap of angular radius δ (radians) around a point at `lat`:
 * asin(sin δ / cos φ), the exact extent of a cap. Undefined when the cap reaches a pole: it spans all longitudes.
 */
export function capHalfWidthDeg(lat: number, δ: number): number | undefined {
  const δDeg = δ * DEG;
  if (δ >= Math.PI / 2 || lat + δDeg >= 90 || lat - δDeg <= -90) return undefined;
  const ratio = Math.sin(δ) / Math.cos(lat * RAD);
  return ratio < 1 ? Math.asin(ratio) * DEG : undefined;
}

/**
 * The smallest lat/lon box holding every point within radiusKm of p (a spherical cap): searching an index
 * with it never misses a candidate, however high the latitude.
 */
export function capBox(p: LatLon, radiusKm: number): CapBox {
  const δ = radiusKm / EARTH_RADIUS_KM;
  const δDeg = δ * DEG;
  const minLat = Math.max(-90, p.lat - δDeg);
  const maxLat = Math.min(90, p.lat + δDeg);
  const exact = capHalfWidthDeg(p.lat, δ);
  if (exact === undefined) return { minLat, maxLat, lonRanges: [[-180, 180]] };
  const half = exact + 1e-9;
  const lo = p.lon - half;
  const hi = p.lon + half;
  if (hi - lo >= 360) return { minLat, maxLat, lonRanges: [[-180, 180]] };
  const lonRanges: Array<[number, number]> = [];
  if (lo < -180) lonRanges.push([-180, hi], [lo + 360, 180]);
  else if (hi > 180) lonRanges.push([lo, 180], [-180, hi - 360]);
  else lonRanges.push([lo, hi]);
  return { minLat, maxLat, lonRanges };
}

/**
 * How far (degrees of latitude) the great-circle arc a→b bulges poleward beyond its ends: the planar
 * bounding box of an edge misses that much of the arc. Zero for arcs whose vertex lies outside the arc.
 */
export function arcBulgeDeg(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const [ax, ay, az] = toVec3(aLat, aLon);
  const [bx, by, bz] = toVec3(bLat, bLon);
  const [nx, ny, nz] = cross([ax, ay, az], [bx, by, bz]);
  const nh = Math.hypot(nx, ny);
  if (nh < 1e-15) return 0;
  // The circle's northern vertex is the projection of the north pole onto the circle's plane:
  // v ∝ (−nx·nz, −ny·nz, nx²+ny²); the southern vertex is −v. The one on the arc, if any, bulges.
  const vx = -nx * nz;
  const vy = -ny * nz;
  const vz = nx * nx + ny * ny;
  const maxLat = Math.acos(Math.min(1, Math.abs(nz) / Math.hypot(nx, ny, nz))) * DEG;
  const north = onArc(ax, ay, az, bx, by, bz, nx, ny, nz, vx, vy, vz) ? maxLat - Math.max(aLat, bLat) : 0;
  const south = onArc(ax, ay, az, bx, by, bz, nx, ny, nz, -vx, -vy, -vz) ? Math.min(aLat, bLat) + maxLat : 0;
  return Math.max(0, north, south);
}

/** Whether s lies on the minor arc a→b of the great circle with pole n: (a×s)·n ≥ 0 and (s×b)·n ≥ 0. */
function onArc(
  ax: number,
  ay: number,
  az: number,
  bx: number,
  by: number,
  bz: number,
  nx: number,
  ny: number,
  nz: number,
  sx: number,
  sy: number,
  sz: number,
): boolean {
  return (
    (ay * sz - az * sy) * nx + (az * sx - ax * sz) * ny + (ax * sy - ay * sx) * nz >= 0 &&
    (sy * bz - sz * by) * nx + (sz * bx - sx * bz) * ny + (sx * by - sy * bx) * nz >= 0
  );
}
