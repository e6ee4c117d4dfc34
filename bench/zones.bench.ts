// Zone index figures at 50m and 10m: load and build time, memory, µs per zonesAt / countryAt / nearest /
// zonesCrossed, the naive turf loop over every country it replaces, and agreement with a spherical
// reference (d3-geo geoContains). Run: npx tsx bench/zones.bench.ts [--quick] — prints figures, asserts
// nothing. Progress goes to stderr, figures to stdout. Also exports the spherical reference for the tests.

import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { booleanPointInPolygon } from '@turf/turf';
import { geoArea, geoBounds, geoContains } from 'd3-geo';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import countries from 'i18n-iso-countries';
import { seededRandom } from '../device-sim/route.ts';
import { loadCountryZones, loadWorldFeatures, type Resolution } from '../src/geo/countries.ts';
import { loadPolicy, type Policy } from '../src/geo/policy.ts';
import { densifyGreatCircle } from '../src/geo/spherical.ts';
import type { LatLon, Zone, ZoneIndex, ZoneInput } from '../src/geo/types.ts';
import { buildZoneIndex } from '../src/geo/zone-index.ts';

type CountryFeature = Feature<Polygon | MultiPolygon, { name: string }>;

// A full GC without a command-line flag (set up on first use), so memory figures are retained sizes.
let gc: (() => void) | undefined;
const usedBytes = () => {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * Ports and coastal cities of restricted countries (approximate quay positions): where shipments end, and
 * where a coarse coastline hurts most. Counted as found when nearest() puts them inside a restricted zone.
 */
export const RESTRICTED_PORTS: Array<[string, number, number]> = `
  Hong Kong Kwai Tsing:22.345,114.125; Hong Kong Central:22.282,114.158; Macau:22.19,113.545;
  Shanghai Waigaoqiao:31.36,121.6; Shanghai Yangshan:30.62,122.07; Shenzhen Yantian:22.58,114.27;
  Tianjin:38.98,117.75; Dalian:38.93,121.65; Qingdao:36.08,120.32; Vladivostok:43.115,131.885;
  Nakhodka:42.81,132.88; St Petersburg:59.88,30.21; Baltiysk:54.65,19.9; Novorossiysk:44.72,37.79;
  Murmansk:68.97,33.05; Bandar Abbas:27.15,56.22; Latakia:35.52,35.78; Tartus:34.89,35.87;
  Beirut:33.9,35.52; Nampo:38.73,125.4; Havana:23.14,-82.35; La Guaira:10.6,-66.93;
  Port Sudan:19.6,37.22; Tripoli:32.9,13.18; Umm Qasr:30.03,47.95; Yangon:16.77,96.17;
  Massawa:15.61,39.45; Mogadishu:2.03,45.34; Berbera:10.44,45.01; Port-au-Prince:18.55,-72.34;
  Matadi:-5.82,13.45; Corinto:12.48,-87.17`
  .split(';')
  .map((entry) => entry.trim().split(/[:,]/))
  .map(([name, lat, lon]): [string, number, number] => [name!, Number(lat), Number(lon)]);

/** Zone ids containing a point, by d3-geo on the raw spherical features: the independent reference. */
export type SphericalReference = (p: LatLon) => string[];

/**
 * d3 treats a ring wound the wrong way as covering the rest of the sphere; world-atlas 10m has three such
 * Maldives rings. The reference rewinds any polygon larger than a hemisphere, then prefilters by geoBounds
 * (which handles the antimeridian) so a query tests only a few features.
 */
export function buildSphericalReference(resolution: Resolution, policy: Policy): SphericalReference {
  const entries = loadWorldFeatures(resolution).features.map((f) => {
    const g = rewindInverted(f.geometry);
    const feature: CountryFeature = { ...f, geometry: g };
    const [[west, south], [east, north]] = geoBounds(feature);
    return { feature, id: referenceId(f, policy), west, south, east, north };
  });
  return (p) => {
    const ids: string[] = [];
    for (const e of entries) {
      if (p.lat < e.south - 1e-6 || p.lat > e.north + 1e-6) continue;
      const inLon =
        e.west <= e.east
          ? p.lon >= e.west - 1e-6 && p.lon <= e.east + 1e-6
          : p.lon >= e.west || p.lon <= e.east;
      if (inLon && geoContains(e.feature, [p.lon, p.lat]) && !ids.includes(e.id)) ids.push(e.id);
    }
    return ids;
  };
}

function rewindInverted(g: Polygon | MultiPolygon): Polygon | MultiPolygon {
  const fix = (rings: number[][][]) =>
    geoArea({ type: 'Polygon', coordinates: rings }) > 2 * Math.PI
      ? rings.map((r) => [...r].reverse())
      : rings;
  return g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: fix(g.coordinates) }
    : { type: 'MultiPolygon', coordinates: g.coordinates.map(fix) };
}

function referenceId(f: CountryFeature, policy: Policy): string {
  if (f.id !== undefined) return countries.numericToAlpha2(f.id) ?? `?${f.id}`;
  return policy.entitiesByName.get(f.properties.name)?.key ?? `?${f.properties.name}`;
}

// The simulator's deterministic PRNG (mulberry32), so runs compare.
export { seededRandom };

/** Uniform on the sphere (not on the lon/lat rectangle). */
export function randomPoint(rand: () => number): LatLon {
  return { lat: (Math.asin(2 * rand() - 1) * 180) / Math.PI, lon: rand() * 360 - 180 };
}

/** Kaohsiung → Singapore → Suez → Rotterdam, waypoints at sea, densified every 10 km. */
export function seaLanePoints(): LatLon[] {
  const waypoints: Array<[number, number]> = [
    [22.4, 120.1],
    [18.0, 115.0],
    [10.0, 109.5],
    [2.0, 105.0],
    [1.2, 103.8],
    [2.5, 101.3],
    [6.0, 97.0],
    [5.9, 80.5],
    [12.5, 51.0],
    [12.6, 43.4],
    [20.0, 38.5],
    [27.5, 34.0],
    [29.9, 32.55],
    [31.5, 32.3],
    [33.5, 25.0],
    [36.0, 11.5],
    [37.5, 2.0],
    [36.0, -5.5],
    [36.5, -9.5],
    [43.5, -10.0],
    [48.5, -5.5],
    [50.0, -1.0],
    [51.1, 1.6],
    [51.98, 4.05],
  ];
  const out: LatLon[] = [];
  for (let i = 0; i + 1 < waypoints.length; i++) {
    const [a, b] = [waypoints[i]!, waypoints[i + 1]!];
    const leg = densifyGreatCircle({ lat: a[0], lon: a[1] }, { lat: b[0], lon: b[1] }, 10);
    out.push(...(i === 0 ? leg : leg.slice(1)));
  }
  return out;
}

/** Median of `rounds` timings of fn over all items, µs per item. */
function timeUs<T>(items: T[], fn: (item: T) => unknown, rounds = 5): number {
  for (const it of items.slice(0, 2000)) fn(it);
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    for (const it of items) fn(it);
    per.push(((performance.now() - t) * 1000) / items.length);
  }
  return per.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

export interface ZonesBenchOptions {
  resolutions?: Resolution[];
  /** Random points for the timing runs. */
  points?: number;
  /** Points the naive turf loop is timed on (it is slow). */
  naivePoints?: number;
  /** Random points compared with the spherical reference. */
  accuracyPoints?: number;
  log?: (line: string) => void;
}

export interface ZonesBenchResult {
  resolution: Resolution;
  loadMs: number;
  buildMs: number;
  /** Retained by the zone inputs (GeoJSON) plus the index, and by the index alone. */
  memoryMB: number;
  indexMemoryMB: number;
  edges: number;
  /** Restricted ports inside a restricted zone, and the farthest miss (km to the zone). */
  ports: { found: number; of: number; worstMissKm: number; missed: string[] };
  zonesAtRandomUs: number;
  zonesAtLaneUs: number;
  countryAtUs: number;
  nearestRestricted500KmUs: number;
  nearestRestricted2000KmUs: number;
  zonesCrossedUs: number;
  naiveTurfUs: number;
  naiveRatio: number;
  naiveMismatches: { points: number; mismatches: number };
  accuracy: { points: number; land: number; mismatches: number; examples: string[] };
}

export async function runZonesBench(opts: ZonesBenchOptions = {}): Promise<ZonesBenchResult[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const policy = loadPolicy();
  const rand = seededRandom(42);
  const random = Array.from({ length: opts.points ?? 20_000 }, () => randomPoint(rand));
  const lane = seaLanePoints();
  const pairs = lane.slice(1).map((b, i) => [lane[i]!, b] as const);
  const isRestricted = (z: Zone) => z.tier === 'restricted';
  const results: ZonesBenchResult[] = [];

  for (const resolution of opts.resolutions ?? ['50m', '10m']) {
    log(`zones ${resolution}: loading world-atlas and building the index`);
    const before = usedBytes();
    const t0 = performance.now();
    let inputs: ZoneInput[] | undefined = loadCountryZones(policy, resolution);
    const t1 = performance.now();
    const index = buildZoneIndex(inputs);
    const t2 = performance.now();
    const memoryMB = (usedBytes() - before) / 2 ** 20;
    const edges = inputs.reduce((n, i) => n + countEdges(i.geometry), 0);
    inputs = undefined;
    const indexMemoryMB = (usedBytes() - before) / 2 ** 20;
    const ports = portFigures(index);

    log(
      `zones ${resolution}: timing queries on ${random.length} random points and ${lane.length} sea-lane points`,
    );
    const zonesAtRandomUs = timeUs(random, (p) => index.zonesAt(p));
    const zonesAtLaneUs = timeUs(lane, (p) => index.zonesAt(p));
    const countryAtUs = timeUs(random, (p) => index.countryAt(p));
    const nearestRestricted500KmUs = timeUs(lane, (p) => index.nearest(p, isRestricted, 500), 3);
    const nearestRestricted2000KmUs = timeUs(lane, (p) => index.nearest(p, isRestricted, 2000), 3);
    const zonesCrossedUs = timeUs(pairs, ([a, b]) => index.zonesCrossed(a, b, isRestricted));

    log(`zones ${resolution}: naive turf loop over ${opts.naivePoints ?? 300} points`);
    const raw = loadWorldFeatures(resolution).features;
    const naivePts = random.slice(0, opts.naivePoints ?? 300);
    const naive = (p: LatLon) =>
      raw.filter((f) => booleanPointInPolygon([p.lon, p.lat], f)).map((f) => referenceId(f, policy));
    const naiveTurfUs = timeUs(naivePts, naive, 1);

    log(`zones ${resolution}: comparing with d3-geo on ${opts.accuracyPoints ?? 5000} random points`);
    const reference = buildSphericalReference(resolution, policy);
    const accPts = random.slice(0, opts.accuracyPoints ?? 5000);
    const naiveMismatches = naivePts.filter((p) => !sameIds(naive(p), reference(p))).length;
    const accuracy = compare(index, reference, accPts);
    const r: ZonesBenchResult = {
      resolution,
      loadMs: t1 - t0,
      buildMs: t2 - t1,
      memoryMB,
      indexMemoryMB,
      edges,
      ports,
      zonesAtRandomUs,
      zonesAtLaneUs,
      countryAtUs,
      nearestRestricted500KmUs,
      nearestRestricted2000KmUs,
      zonesCrossedUs,
      naiveTurfUs,
      naiveRatio: naiveTurfUs / zonesAtRandomUs,
      naiveMismatches: { points: naivePts.length, mismatches: naiveMismatches },
      accuracy,
    };
    results.push(r);
    log(`zones ${resolution}: done`);
  }
  return results;
}

function portFigures(index: ZoneIndex): ZonesBenchResult['ports'] {
  const missed: string[] = [];
  let worstMissKm = 0;
  for (const [name, lat, lon] of RESTRICTED_PORTS) {
    const km = index.nearest({ lat, lon }, (z) => z.tier === 'restricted', 100)?.distanceKm ?? 100;
    if (km === 0) continue;
    missed.push(`${name} ${km.toFixed(1)} km`);
    worstMissKm = Math.max(worstMissKm, km);
  }
  return { found: RESTRICTED_PORTS.length - missed.length, of: RESTRICTED_PORTS.length, worstMissKm, missed };
}

function compare(index: ZoneIndex, reference: SphericalReference, points: LatLon[]) {
  let land = 0;
  const examples: string[] = [];
  let mismatches = 0;
  for (const p of points) {
    const want = reference(p);
    if (want.length > 0) land++;
    const got = index.zonesAt(p).map((z) => z.id);
    if (sameIds(got, want)) continue;
    mismatches++;
    if (examples.length < 10)
      examples.push(`${p.lat.toFixed(3)},${p.lon.toFixed(3)} index=[${got}] d3=[${want}]`);
  }
  return { points: points.length, land, mismatches, examples };
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function countEdges(g: Polygon | MultiPolygon): number {
  const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  return polygons.flat().reduce((n, ring) => n + ring.length - 1, 0);
}

export function renderZonesBench(results: ZonesBenchResult[]): string {
  const f = (n: number, d = 2) => n.toFixed(d);
  const lines = ['zone index (median µs per query; memory retained after a full GC)'];
  for (const r of results) {
    lines.push(
      `  ${r.resolution}: ${r.edges} edges, load ${f(r.loadMs, 0)} ms, build ${f(r.buildMs, 0)} ms, ` +
        `${f(r.memoryMB, 0)} MB with the GeoJSON, ${f(r.indexMemoryMB, 0)} MB index alone`,
      `    restricted ports inside a restricted zone: ${r.ports.found}/${r.ports.of}; ` +
        `misses ${r.ports.missed.join(', ') || 'none'}`,
      `    zonesAt random ${f(r.zonesAtRandomUs)} µs, sea lane ${f(r.zonesAtLaneUs)} µs; countryAt ${f(r.countryAtUs)} µs`,
      `    nearest restricted ≤500 km ${f(r.nearestRestricted500KmUs)} µs, ≤2000 km ${f(r.nearestRestricted2000KmUs)} µs`,
      `    zonesCrossed (10 km lane steps, restricted) ${f(r.zonesCrossedUs)} µs`,
      `    naive turf loop ${f(r.naiveTurfUs, 0)} µs/point = ${f(r.naiveRatio, 0)}× zonesAt; it disagrees with d3 on ` +
        `${r.naiveMismatches.mismatches}/${r.naiveMismatches.points} points (antimeridian trap)`,
      `    vs d3-geo: ${r.accuracy.mismatches} mismatches on ${r.accuracy.points} random points ` +
        `(${r.accuracy.land} on land, ${f(100 * (1 - r.accuracy.mismatches / Math.max(1, r.accuracy.land)), 3)} % of land agree)`,
      ...r.accuracy.examples.map((e) => `      ${e}`),
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const results = await runZonesBench(quick ? { points: 5000, naivePoints: 100, accuracyPoints: 2000 } : {});
  process.stdout.write(`${renderZonesBench(results)}\n`);
}
