// Planned routes: building (sea, air, given, antimeridian), validation, GeoJSON output, and the route index,
// checked against turf (an independent geodesic implementation) wherever a reference is needed.
import * as turf from '@turf/turf';
import type { MultiLineString } from 'geojson';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/domain/errors.ts';
import { indexRoute } from '../../../src/geo/route-index.ts';
import { buildPlannedRoute, corridorPolygon, routeToGeoJSON } from '../../../src/geo/routes.ts';
import { haversineKm } from '../../../src/geo/spherical.ts';
import type { LatLon, PlannedRoute, Position } from '../../../src/geo/types.ts';

const KAOHSIUNG = { lat: 22.61, lon: 120.27 };
const ROTTERDAM = { lat: 51.9, lon: 4.4 };
const TAIPEI = { lat: 25.08, lon: 121.23 };
const AMSTERDAM = { lat: 52.31, lon: 4.76 };
const TOKYO = { lat: 35.55, lon: 139.78 };
const LOS_ANGELES = { lat: 33.94, lon: -118.41 };

/** Seeded PRNG (mulberry32): the random checks are the same on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const at = (p: Position): LatLon => ({ lon: p[0], lat: p[1] });
const nearestKm = (coords: Position[], p: LatLon) =>
  turf.pointToLineDistance([p.lon, p.lat], turf.lineString(coords));
const allCoords = (r: PlannedRoute) => r.legs.flatMap((l) => l.coordinates);

function validationError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('VALIDATION_FAILED');
    return e as AppError;
  }
  throw new Error('expected a validation error');
}

describe('sea route Kaohsiung → Rotterdam', () => {
  let route: PlannedRoute;
  beforeAll(() => {
    route = buildPlannedRoute({ mode: 'sea', origin: KAOHSIUNG, destination: ROTTERDAM });
  });

  it('is one sea leg from the origin to the destination, 16,000–22,000 km long', () => {
    expect(route.legs).toHaveLength(1);
    expect(route.legs[0]!.mode).toBe('sea');
    const c = route.legs[0]!.coordinates;
    expect(c[0]).toEqual([KAOHSIUNG.lon, KAOHSIUNG.lat]);
    expect(c.at(-1)).toEqual([ROTTERDAM.lon, ROTTERDAM.lat]);
    expect(route.lengthKm).toBeGreaterThan(16_000);
    expect(route.lengthKm).toBeLessThan(22_000);
  });

  it('goes through the Singapore Strait and Suez, not round the Cape of Good Hope', () => {
    const c = route.legs[0]!.coordinates;
    expect(nearestKm(c, { lat: 1.2, lon: 103.8 })).toBeLessThan(150);
    expect(nearestKm(c, { lat: 30, lon: 32.5 })).toBeLessThan(150);
    expect(nearestKm(c, { lat: -34.36, lon: 18.47 })).toBeGreaterThan(1000);
  });

  it('locate() agrees with turf.pointToLineDistance on 500 random points near the route', () => {
    const c = route.legs[0]!.coordinates;
    const line = turf.lineString(c);
    const index = indexRoute(route);
    const random = rng(42);
    for (let i = 0; i < 500; i++) {
      const onRoute = turf.along(line, random() * route.lengthKm, { units: 'kilometers' });
      const p = turf.destination(onRoute, random() * 600, random() * 360 - 180, { units: 'kilometers' });
      const [lon, lat] = p.geometry.coordinates as Position;
      const expected = turf.pointToLineDistance([lon, lat], line, { units: 'kilometers' });
      const got = index.locate({ lat, lon }).crossTrackKm;
      expect(Math.abs(got - expected)).toBeLessThanOrEqual(Math.max(0.5, expected * 0.005));
    }
  });

  it('locate() gives ≈0 km on the route, with alongKm rising as the route goes', () => {
    const line = turf.lineString(route.legs[0]!.coordinates);
    const index = indexRoute(route);
    let previous = -1;
    for (let km = 0; km <= route.lengthKm; km += 97) {
      const [lon, lat] = turf.along(line, km, { units: 'kilometers' }).geometry.coordinates as Position;
      const fix = index.locate({ lat, lon });
      expect(fix.crossTrackKm).toBeLessThan(0.01);
      expect(fix.alongKm).toBeCloseTo(km, 0);
      expect(fix.alongKm).toBeGreaterThan(previous);
      expect(fix.legIndex).toBe(0);
      previous = fix.alongKm;
    }
    expect(index.locate(ROTTERDAM).alongKm).toBeCloseTo(route.lengthKm, 6);
  });
});

describe('air route Taipei → Amsterdam', () => {
  const route = buildPlannedRoute({ mode: 'air', origin: TAIPEI, destination: AMSTERDAM });
  const line = turf.lineString(route.legs[0]!.coordinates);

  it('follows the great circle: length within 0.5 % of haversine, midpoint within 5 km of the true one', () => {
    const gcKm = turf.distance([TAIPEI.lon, TAIPEI.lat], [AMSTERDAM.lon, AMSTERDAM.lat], {
      units: 'kilometers',
    });
    expect(Math.abs(route.lengthKm - gcKm) / gcKm).toBeLessThan(0.005);
    const trueMid = turf.midpoint([TAIPEI.lon, TAIPEI.lat], [AMSTERDAM.lon, AMSTERDAM.lat]);
    const routeMid = turf.along(line, route.lengthKm / 2, { units: 'kilometers' });
    expect(turf.distance(trueMid, routeMid, { units: 'kilometers' })).toBeLessThan(5);
  });

  it('has points at most 50 km apart', () => {
    const c = route.legs[0]!.coordinates;
    for (let i = 1; i < c.length; i++)
      expect(haversineKm(at(c[i - 1]!), at(c[i]!))).toBeLessThanOrEqual(50.001);
  });

  it('locate() puts a point 100 km abeam at 100 ± 2 km, with the route bearing there', () => {
    const index = indexRoute(route);
    const km = route.lengthKm * 0.4;
    const foot = turf.along(line, km, { units: 'kilometers' });
    const ahead = turf.along(line, km + 1, { units: 'kilometers' });
    const bearing = turf.bearing(foot, ahead);
    for (const side of [90, -90]) {
      const p = turf.destination(foot, 100, bearing + side, { units: 'kilometers' }).geometry
        .coordinates as Position;
      const fix = index.locate(at(p));
      expect(Math.abs(fix.crossTrackKm - 100)).toBeLessThan(2);
      expect(Math.abs(fix.alongKm - km)).toBeLessThan(2);
      expect(Math.abs(((fix.routeBearingDeg - bearing + 540) % 360) - 180)).toBeLessThan(1);
    }
  });
});

describe('routes across the antimeridian', () => {
  // As RFC 7946 asks: cut at 180, both pieces ending at the same latitude.
  const cut: MultiLineString = {
    type: 'MultiLineString',
    coordinates: [
      [
        [139.78, 35.55],
        [160, 45],
        [180, 48],
      ],
      [
        [-180, 48],
        [-150, 45],
        [-118.41, 33.94],
      ],
    ],
  };
  const given = buildPlannedRoute({ mode: 'air', origin: TOKYO, destination: LOS_ANGELES, route: cut });
  const greatCircle = buildPlannedRoute({ mode: 'air', origin: TOKYO, destination: LOS_ANGELES });

  it('joins the cut MultiLineString into one continuous leg with the right length', () => {
    expect(given.legs).toHaveLength(1);
    const c = given.legs[0]!.coordinates;
    for (let i = 1; i < c.length; i++) expect(Math.abs(c[i]![0] - c[i - 1]![0])).toBeLessThan(180);
    expect(c.at(-1)![0]).toBeCloseTo(-118.41 + 360, 9);
    const expected = [
      [139.78, 35.55],
      [160, 45],
      [180, 48],
      [-150, 45],
      [-118.41, 33.94],
    ].reduce(
      (km, p, i, all) => (i === 0 ? 0 : km + turf.distance(all[i - 1]!, p, { units: 'kilometers' })),
      0,
    );
    expect(given.lengthKm).toBeCloseTo(expected, 3);
  });

  it('gives the great-circle air route the haversine length', () => {
    expect(
      Math.abs(greatCircle.lengthKm - haversineKm(TOKYO, LOS_ANGELES)) / greatCircle.lengthKm,
    ).toBeLessThan(0.005);
  });

  it('locate() works at 179.9E and 179.9W, on either side of the cut', () => {
    for (const route of [given, greatCircle]) {
      const lat = routeToGeoJSON(route).coordinates[0]!.at(-1)![1]! - 0.2;
      const index = indexRoute(route);
      const east = index.locate({ lat, lon: 179.9 });
      const west = index.locate({ lat, lon: -179.9 });
      expect(east.crossTrackKm).toBeLessThan(50);
      expect(west.crossTrackKm).toBeLessThan(50);
      expect(west.alongKm - east.alongKm).toBeGreaterThan(5);
      expect(west.alongKm - east.alongKm).toBeLessThan(30);
      const ref = nearestKm(allCoords(route), { lat, lon: -179.9 });
      expect(west.crossTrackKm).toBeCloseTo(ref, 3);
    }
  });

  it('routeToGeoJSON cuts at ±180 with longitudes in [-180, 180]', () => {
    for (const route of [given, greatCircle]) {
      const lines = routeToGeoJSON(route).coordinates;
      expect(lines).toHaveLength(2);
      expect(lines[0]!.at(-1)![0]).toBe(180);
      expect(lines[1]![0]![0]).toBe(-180);
      expect(lines[1]![0]![1]).toBeCloseTo(lines[0]!.at(-1)![1]!, 9);
      for (const p of lines.flat()) expect(Math.abs(p[0]!)).toBeLessThanOrEqual(180);
    }
    expect(routeToGeoJSON(given).coordinates[0]!.at(-1)).toEqual([180, 48]);
  });

  it('corridorPolygon covers the route on both sides of the cut and stays within [-180, 180]', () => {
    const corridor = corridorPolygon(given, 50);
    expect(corridor.type).toBe('MultiPolygon');
    for (const p of corridor.coordinates.flat(3) as number[]) expect(Number.isFinite(p)).toBe(true);
    const lons = (
      corridor.type === 'MultiPolygon' ? corridor.coordinates.flat(2) : corridor.coordinates.flat()
    ).map((p) => p[0]!);
    expect(Math.max(...lons)).toBeLessThanOrEqual(180);
    expect(Math.min(...lons)).toBeGreaterThanOrEqual(-180);
    const inside = (lon: number, lat: number) => turf.booleanPointInPolygon([lon, lat], corridor);
    expect(inside(160, 45)).toBe(true);
    expect(inside(179.95, 48)).toBe(true);
    expect(inside(-179.95, 48)).toBe(true);
    expect(inside(-150, 45)).toBe(true);
    expect(inside(-150, 46.5)).toBe(false);
  });

  it('computes a sea route Tokyo → Los Angeles across the Pacific, not round the world', () => {
    const sea = buildPlannedRoute({ mode: 'sea', origin: TOKYO, destination: LOS_ANGELES });
    expect(sea.lengthKm).toBeGreaterThan(haversineKm(TOKYO, LOS_ANGELES));
    expect(sea.lengthKm).toBeLessThan(11_000);
    expect(Math.max(...allCoords(sea).map((p) => p[0]))).toBeGreaterThan(180);
  });
});

describe('locate() anywhere on Earth', () => {
  it('matches turf.pointToLineDistance for random points, poles and both sides of the antimeridian included', () => {
    const routes = [
      // Over the Arctic, the antimeridian crossed at high latitude.
      buildPlannedRoute({ mode: 'air', origin: TAIPEI, destination: { lat: 40.64, lon: -73.78 } }),
      // Through the North Pole itself (the two ends 180° of longitude apart).
      buildPlannedRoute({ mode: 'air', origin: { lat: 60, lon: 10 }, destination: { lat: 60, lon: -170 } }),
      // Zigzag over the antimeridian, long segments.
      buildPlannedRoute({
        mode: 'air',
        origin: { lat: 0, lon: 170 },
        destination: { lat: -10, lon: -175 },
        route: {
          type: 'LineString',
          coordinates: [
            [170, 0],
            [-170, 0],
            [175, 10],
            [-175, -10],
          ],
        },
      }),
    ];
    const random = rng(7);
    for (const route of routes) {
      const index = indexRoute(route);
      const line = turf.lineString(allCoords(route));
      const points: LatLon[] = [
        { lat: 90, lon: 0 },
        { lat: -90, lon: 0 },
        { lat: 89.99, lon: 45 },
      ];
      for (let i = 0; i < 300; i++) {
        points.push({ lat: (Math.asin(2 * random() - 1) * 180) / Math.PI, lon: random() * 360 - 180 });
      }
      for (const p of points) {
        const expected = turf.pointToLineDistance([p.lon, p.lat], line, { units: 'kilometers' });
        expect(index.locate(p).crossTrackKm).toBeCloseTo(expected, 3);
      }
    }
  });

  it('finds the nearest point where a long segment bulges poleward past both its ends', () => {
    // The great circle from 60°N 0° to 60°N 90°E peaks at 67.8°N; a second leg lies ≈330 km north of the query.
    const legs = [
      {
        mode: 'air' as const,
        coordinates: [
          [0, 60],
          [90, 60],
        ] as Position[],
      },
      {
        mode: 'air' as const,
        coordinates: [
          [40, 71],
          [50, 71],
        ] as Position[],
      },
    ];
    const route = buildPlannedRoute({
      mode: 'air',
      origin: { lat: 60, lon: 0 },
      destination: { lat: 71, lon: 50 },
      route: { legs },
    });
    const fix = indexRoute(route).locate({ lat: 68, lon: 45 });
    const expected = turf.pointToLineDistance([45, 68], turf.lineString(legs[0]!.coordinates), {
      units: 'kilometers',
    });
    expect(expected).toBeLessThan(30);
    expect(fix.legIndex).toBe(0);
    expect(fix.crossTrackKm).toBeCloseTo(expected, 6);
  });

  it('refuses a non-finite point', () => {
    const index = indexRoute(buildPlannedRoute({ mode: 'air', origin: TAIPEI, destination: AMSTERDAM }));
    expect(() => index.locate({ lat: Number.NaN, lon: 0 })).toThrow(/finite/);
  });
});

describe('buildPlannedRoute with a given route', () => {
  const base = { mode: 'road' as const, origin: ROTTERDAM, destination: AMSTERDAM };
  const road: Position[] = [
    [4.4, 51.9],
    [4.5, 52.1],
    [4.76, 52.31],
  ];

  it('makes one leg of the shipment mode from a LineString', () => {
    const r = buildPlannedRoute({ ...base, route: { type: 'LineString', coordinates: road } });
    expect(r.legs).toEqual([{ mode: 'road', coordinates: road }]);
  });

  it('keeps a legs list as given, with its modes, and measures along all legs', () => {
    const legs = [
      { mode: 'road' as const, coordinates: road },
      { mode: 'air' as const, coordinates: [road[2]!, [121.23, 25.08] as Position] },
    ];
    const r = buildPlannedRoute({ ...base, route: { legs } });
    expect(r.legs.map((l) => l.mode)).toEqual(['road', 'air']);
    const index = indexRoute(r);
    const fix = index.locate(TAIPEI);
    expect(fix.legIndex).toBe(1);
    expect(fix.alongKm).toBeCloseTo(r.lengthKm, 6);
  });

  it('refuses a latitude of 95, naming the position', () => {
    const e = validationError(() =>
      buildPlannedRoute({ ...base, route: { type: 'LineString', coordinates: [road[0]!, [4.5, 95]] } }),
    );
    expect(e.message).toMatch(/route\.coordinates\[1\].*latitude 95/);
  });

  it('refuses a leg of one position', () => {
    const e = validationError(() =>
      buildPlannedRoute({ ...base, route: { type: 'LineString', coordinates: [road[0]!] } }),
    );
    expect(e.message).toMatch(/at least 2 positions/);
  });

  it('refuses a road shipment without a route', () => {
    expect(validationError(() => buildPlannedRoute(base)).message).toMatch(/a road route must be given/);
  });

  it('refuses non-finite coordinates, longitudes past 180, unknown modes and unknown shapes', () => {
    const bad = (route: unknown) =>
      validationError(() => buildPlannedRoute({ ...base, route: route as never })).message;
    expect(bad({ type: 'LineString', coordinates: [road[0], [Number.NaN, 52]] })).toMatch(
      /longitude must be a finite/,
    );
    expect(
      bad({
        type: 'MultiLineString',
        coordinates: [
          road,
          [
            [181, 1],
            [2, 2],
          ],
        ],
      }),
    ).toMatch(/route\.coordinates\[1\]\[0\].*longitude 181/);
    expect(bad({ legs: [{ mode: 'rail', coordinates: road }] })).toMatch(/route\.legs\[0\]\.mode/);
    expect(bad({ type: 'Point', coordinates: [4, 52] })).toMatch(/LineString or MultiLineString/);
    expect(
      validationError(() => buildPlannedRoute({ ...base, origin: { lat: -91, lon: 0 } })).message,
    ).toMatch(/origin/);
  });
});
