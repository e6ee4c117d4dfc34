// Great-circle helpers for planned routes: distances, bearings, interpolation, segment projection, longitude unwrapping.
// Segments are minor great-circle arcs (as turf's geodesic nearest-point-on-line treats them), computed on unit
// vectors so that unwrapped longitudes (beyond ±180) need no special case.

// Distances, bearings, interpolation and vectors are the shared ones; what is here keeps longitudes unwrapped.
import { densifyGreatCircle, EARTH_RADIUS_KM, haversineKm } from './spherical.ts';
import type { LatLon, Position } from './types.ts';
import { centralAngleRad, cross, normalize, toVec3, type Vec3 } from './vec3.ts';

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** `lon` moved by a multiple of 360 to lie within 180 of `refLon`: the minor arc's way round. */
export function unwrapLon(refLon: number, lon: number): number {
  return lon + 360 * Math.round((refLon - lon) / 360);
}

/** Positions with continuous longitudes (a jump over ±180 becomes lon beyond ±180), starting at `startRefLon`'s side. */
export function unwrapPositions(coords: readonly Position[], startRefLon?: number): Position[] {
  const out: Position[] = [];
  let prev = startRefLon;
  for (const [lon, lat] of coords) {
    const u = prev === undefined ? lon : unwrapLon(prev, lon);
    out.push([u, lat]);
    prev = u;
  }
  return out;
}

export function pathLengthKm(coords: readonly Position[]): number {
  let km = 0;
  for (let i = 1; i < coords.length; i++) {
    const a = coords[i - 1]!;
    const b = coords[i]!;
    km += haversineKm({ lon: a[0], lat: a[1] }, { lon: b[0], lat: b[1] });
  }
  return km;
}

/** a, b and points between them on the great circle, consecutive points at most `maxStepKm` apart; lon unwrapped next to a's. */
export function densifyUnwrapped(a: LatLon, b: LatLon, maxStepKm: number): LatLon[] {
  return densifyGreatCircle(a, b, maxStepKm).map((p) => ({ lat: p.lat, lon: unwrapLon(a.lon, p.lon) }));
}

/** Latitude where the great circle through a and b crosses meridian `lon` (a and b on different meridians). */
export function latitudeAtLon(a: LatLon, b: LatLon, lon: number): number {
  const φ1 = a.lat * RAD;
  const φ2 = b.lat * RAD;
  const λ1 = a.lon * RAD;
  const λ2 = b.lon * RAD;
  const λ = lon * RAD;
  const num = Math.sin(φ1) * Math.cos(φ2) * Math.sin(λ - λ2) - Math.sin(φ2) * Math.cos(φ1) * Math.sin(λ - λ1);
  return Math.atan(num / (Math.cos(φ1) * Math.cos(φ2) * Math.sin(λ1 - λ2))) * DEG;
}

/**
 * A minor arc prepared for repeated projection: its ends, unit normal n = a×b/|a×b|, tangent t = n×a at a
 * (pointing toward b) and angular length. Degenerate (zero-length or antipodal) arcs have lengthRad 0 and behave as point a.
 */
export interface Arc {
  a: Vec3;
  b: Vec3;
  n: Vec3;
  t: Vec3;
  lengthRad: number;
}

export function prepareArc(a: LatLon, b: LatLon): Arc {
  const va = toVec3(a.lat, a.lon);
  const vb = toVec3(b.lat, b.lon);
  const axb = cross(va, vb);
  const len = Math.hypot(axb[0], axb[1], axb[2]);
  if (len < 1e-15) return { a: va, b: vb, n: [0, 0, 0], t: [0, 0, 0], lengthRad: 0 };
  const n = normalize(axb);
  const lengthRad = Math.atan2(len, va[0] * vb[0] + va[1] * vb[1] + va[2] * vb[2]);
  return { a: va, b: vb, n, t: cross(n, va), lengthRad };
}

/** Result of projecting a point on an arc: angular distance to the arc's nearest point and how far along it lies. */
export interface ArcProjection {
  distanceRad: number;
  alongRad: number;
}

/**
 * Projects unit vector p on the arc, clamped to its ends; writes into `out` so hot loops allocate nothing.
 * With x the foot on the full great circle, p = cos d·x + sin d·n, so atan2(p·t, p·a) is the angle from a to x.
 */
export function projectOnArc(p: Vec3, arc: Arc, out: ArcProjection): ArcProjection {
  const { a, t, lengthRad } = arc;
  if (lengthRad > 0) {
    const pa = p[0] * a[0] + p[1] * a[1] + p[2] * a[2];
    const pt = p[0] * t[0] + p[1] * t[1] + p[2] * t[2];
    const θ = Math.atan2(pt, pa);
    if (θ >= 0 && θ <= lengthRad) {
      const { n } = arc;
      out.distanceRad = Math.asin(Math.min(1, Math.abs(p[0] * n[0] + p[1] * n[1] + p[2] * n[2])));
      out.alongRad = θ;
      return out;
    }
  }
  const da = centralAngleRad(p, a);
  const db = lengthRad > 0 ? centralAngleRad(p, arc.b) : Number.POSITIVE_INFINITY;
  out.distanceRad = Math.min(da, db);
  out.alongRad = da <= db ? 0 : lengthRad;
  return out;
}

/** Bearing (degrees from north) of travel along the arc at `alongRad` from its start. */
export function arcBearingDeg(arc: Arc, alongRad: number): number {
  const { a, t } = arc;
  if (arc.lengthRad === 0) return 0;
  const c = Math.cos(alongRad);
  const s = Math.sin(alongRad);
  // x is the point on the arc, d the direction of travel there; bearing = atan2(d·east, d·north).
  const x0 = a[0] * c + t[0] * s;
  const x1 = a[1] * c + t[1] * s;
  const d0 = t[0] * c - a[0] * s;
  const d1 = t[1] * c - a[1] * s;
  const d2 = t[2] * c - a[2] * s;
  return (Math.atan2(x0 * d1 - x1 * d0, d2) * DEG + 360) % 360;
}

/** Distance from p to segment a–b (clamped to its ends) and along the segment from a to that nearest point. */
export function projectOntoSegment(
  p: LatLon,
  a: LatLon,
  b: LatLon,
): { crossTrackKm: number; alongKm: number } {
  const r = projectOnArc(toVec3(p.lat, p.lon), prepareArc(a, b), { distanceRad: 0, alongRad: 0 });
  return { crossTrackKm: r.distanceRad * EARTH_RADIUS_KM, alongKm: r.alongRad * EARTH_RADIUS_KM };
}

/** Which 360° copy of the world an unwrapped longitude lies in: 0 for [-180, 180], 1 for (180, 540], … */
function worldCopy(lon: number): number {
  if (lon > 180) return Math.ceil((lon - 180) / 360);
  if (lon < -180) return -Math.ceil((-180 - lon) / 360);
  return 0;
}

/**
 * An unwrapped line as RFC 7946 wants it: longitudes in [-180, 180], cut where it crosses the antimeridian,
 * the cut point on the great circle so both pieces end at the same latitude.
 */
export function cutAtAntimeridian(coords: readonly Position[]): Position[][] {
  const parts: Position[][] = [];
  const first = coords[0];
  if (!first) return parts;
  let copy = worldCopy(first[0]);
  let current: Position[] = [[first[0] - 360 * copy, first[1]]];
  const push = (p: Position) => {
    const last = current.at(-1);
    if (!last || last[0] !== p[0] || last[1] !== p[1]) current.push(p);
  };
  for (let i = 1; i < coords.length; i++) {
    const a = coords[i - 1]!;
    const b = coords[i]!;
    const target = worldCopy(b[0]);
    while (copy !== target) {
      const step = target > copy ? 1 : -1;
      const meridian = 360 * copy + 180 * step;
      // An end on the meridian is the cut point itself; the formula would only add rounding.
      const lat =
        a[0] === meridian
          ? a[1]
          : b[0] === meridian
            ? b[1]
            : latitudeAtLon({ lon: a[0], lat: a[1] }, { lon: b[0], lat: b[1] }, meridian);
      push([180 * step, lat]);
      if (current.length >= 2) parts.push(current);
      copy += step;
      current = [[-180 * step, lat]];
    }
    push([b[0] - 360 * copy, b[1]]);
  }
  if (current.length >= 2) parts.push(current);
  return parts;
}
