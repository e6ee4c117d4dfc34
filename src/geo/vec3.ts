// Unit vectors on the sphere: the one conversion from and to lat/lon, and the few vector operations the geometry
// uses. Working on vectors needs no special case at ±180° or at the poles.
import type { LatLon } from './types.ts';

export type Vec3 = [number, number, number];

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

/** The unit vector of a point given in degrees (x towards lon 0 on the equator, z towards the north pole). */
export function toVec3(lat: number, lon: number): Vec3 {
  const φ = lat * RAD;
  const λ = lon * RAD;
  return [Math.cos(φ) * Math.cos(λ), Math.cos(φ) * Math.sin(λ), Math.sin(φ)];
}

/** The point of a (not necessarily unit) vector; lon in [-180, 180]. */
export function fromVec3(v: Vec3): LatLon {
  return { lat: Math.atan2(v[2], Math.hypot(v[0], v[1])) * DEG, lon: Math.atan2(v[1], v[0]) * DEG };
}

export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

export const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

export function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Angle between unit vectors, radians, from their chord: one asin, no trigonometry on the inputs. */
export function centralAngleRad(p: Vec3, q: Vec3): number {
  return 2 * Math.asin(Math.min(1, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) / 2));
}
