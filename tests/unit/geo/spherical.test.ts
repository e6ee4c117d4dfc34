// The shared sphere helpers: longitude wrapping, unit vectors, interpolation and densifying (wrapped and unwrapped).
import { describe, expect, it } from 'vitest';
import { densifyUnwrapped } from '../../../src/geo/great-circle.ts';
import {
  densifyGreatCircle,
  destinationPoint,
  haversineKm,
  initialBearingDeg,
  interpolateGreatCircle,
  normalizeLon,
  wrapLon,
} from '../../../src/geo/spherical.ts';
import { centralAngleRad, fromVec3, toVec3 } from '../../../src/geo/vec3.ts';

describe('longitudes', () => {
  it('wrapLon puts any longitude in [-180, 180), normalizeLon keeps ±180 as given', () => {
    expect(wrapLon(190)).toBe(-170);
    expect(wrapLon(-190)).toBe(170);
    expect(wrapLon(180)).toBe(-180);
    expect(wrapLon(540)).toBe(-180);
    expect(normalizeLon(180)).toBe(180);
    expect(normalizeLon(-180)).toBe(-180);
    expect(normalizeLon(190)).toBe(-170);
    expect(normalizeLon(12.5)).toBe(12.5);
  });
});

describe('unit vectors', () => {
  it('round-trip a point and measure the same angle as haversine', () => {
    const a = { lat: 52.37, lon: 4.9 };
    const b = { lat: -33.87, lon: 151.21 };
    const p = fromVec3(toVec3(a.lat, a.lon));
    expect(p.lat).toBeCloseTo(a.lat, 12);
    expect(p.lon).toBeCloseTo(a.lon, 12);
    const km = centralAngleRad(toVec3(a.lat, a.lon), toVec3(b.lat, b.lon)) * 6371.0088;
    expect(km).toBeCloseTo(haversineKm(a, b), 6);
  });
});

describe('great-circle interpolation', () => {
  it('lands where destinationPoint says, a fraction of the way along the initial bearing', () => {
    const a = { lat: 1.35, lon: 103.82 };
    const b = { lat: 35.68, lon: 139.65 };
    const mid = interpolateGreatCircle(a, b, 0.3);
    const expected = destinationPoint(a, initialBearingDeg(a, b), 0.3 * haversineKm(a, b));
    expect(haversineKm(mid, expected)).toBeLessThan(1e-6);
  });

  it('densifies across the antimeridian: wrapped points, or unwrapped next to the start', () => {
    const a = { lat: 35.55, lon: 139.78 };
    const b = { lat: 61.17, lon: -150.0 };
    const wrapped = densifyGreatCircle(a, b, 100);
    const unwrapped = densifyUnwrapped(a, b, 100);
    expect(unwrapped).toHaveLength(wrapped.length);
    for (let i = 1; i < unwrapped.length; i++) {
      expect(haversineKm(unwrapped[i - 1]!, unwrapped[i]!)).toBeLessThanOrEqual(100 + 1e-9);
      expect(Math.abs(unwrapped[i]!.lon - unwrapped[i - 1]!.lon)).toBeLessThan(10);
      expect(wrapLon(unwrapped[i]!.lon)).toBeCloseTo(wrapLon(wrapped[i]!.lon), 9);
    }
    expect(unwrapped.at(-1)!.lon).toBeCloseTo(210, 9);
    expect(wrapped.some((p) => p.lon < 0)).toBe(true);
  });
});
