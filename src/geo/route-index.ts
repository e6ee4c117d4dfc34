// Where a point lies relative to a planned route: nearest point, distance to it, distance along the route.
// A flatbush over segment bounding boxes (in unwrapped lon/lat) keeps this at microseconds per point, where
// turf.pointToLineDistance over a 1,000-vertex route costs ≈10 ms. Pure; no I/O.
import Flatbush from 'flatbush';
import { type Arc, type ArcProjection, arcBearingDeg, prepareArc, projectOnArc } from './great-circle.ts';
import { capHalfWidthDeg, EARTH_RADIUS_KM } from './spherical.ts';
import { treeSome } from './tree-walk.ts';
import type { LatLon, PlannedRoute, RouteFix, RouteIndex } from './types.ts';
import { toVec3, type Vec3 } from './vec3.ts';

const DEG = 180 / Math.PI;
/** First search radius; most fixes lie inside a corridor of tens of km, so one search usually settles it. */
const FIRST_RADIUS_RAD = 25 / EARTH_RADIUS_KM;
const GROWTH = 2;

/**
 * Bounding box of a minor arc in unwrapped lon/lat. Longitude is monotonic along a minor arc, so its ends bound it;
 * latitude can bulge poleward past both ends, up to the great circle's vertex when that lies on the arc.
 */
function arcBox(
  arc: Arc,
  lonA: number,
  latA: number,
  lonB: number,
  latB: number,
): [number, number, number, number] {
  let minLat = Math.min(latA, latB);
  let maxLat = Math.max(latA, latB);
  const { a, n, t, lengthRad } = arc;
  const h = Math.sqrt(Math.max(0, 1 - n[2] * n[2]));
  if (lengthRad > 0 && h > 1e-12) {
    // Northern vertex v = (k − n_z·n)/h; the southern one is −v.
    const v: Vec3 = [(-n[2] * n[0]) / h, (-n[2] * n[1]) / h, (1 - n[2] * n[2]) / h];
    const θ = Math.atan2(v[0] * t[0] + v[1] * t[1] + v[2] * t[2], v[0] * a[0] + v[1] * a[1] + v[2] * a[2]);
    const vertexLat = Math.asin(Math.min(1, v[2])) * DEG;
    if (θ >= 0 && θ <= lengthRad) maxLat = Math.max(maxLat, vertexLat);
    const θs = θ > 0 ? θ - Math.PI : θ + Math.PI;
    if (θs >= 0 && θs <= lengthRad) minLat = Math.min(minLat, -vertexLat);
  }
  // A hair of slack so rounding never drops the arc that touches the query box.
  return [Math.min(lonA, lonB) - 1e-9, minLat - 1e-9, Math.max(lonA, lonB) + 1e-9, maxLat + 1e-9];
}

export function indexRoute(route: PlannedRoute): RouteIndex {
  const arcs: Arc[] = [];
  const startKm: number[] = [];
  const legOf: number[] = [];
  const boxes: [number, number, number, number][] = [];
  let km = 0;
  route.legs.forEach((leg, legIndex) => {
    const c = leg.coordinates;
    for (let i = 1; i < c.length; i++) {
      const [lonA, latA] = c[i - 1]!;
      const [lonB, latB] = c[i]!;
      const arc = prepareArc({ lat: latA, lon: lonA }, { lat: latB, lon: lonB });
      arcs.push(arc);
      startKm.push(km);
      legOf.push(legIndex);
      boxes.push(arcBox(arc, lonA, latA, lonB, latB));
      km += arc.lengthRad * EARTH_RADIUS_KM;
    }
  });
  if (arcs.length === 0) throw new Error('a route needs at least one leg of two positions to be indexed');
  const tree = new Flatbush(arcs.length);
  for (const b of boxes) tree.add(b[0], b[1], b[2], b[3]);
  tree.finish();
  // Each arc's midpoint and the chord from it to the arc's ends: every point of the arc lies within that chord of
  // the midpoint, so an arc whose midpoint is farther than the best chord plus that is not nearer.
  const mid = new Float64Array(arcs.length * 3);
  const reach = new Float64Array(arcs.length);
  arcs.forEach((arc, i) => {
    const [m0, m1, m2] = [arc.a[0] + arc.b[0], arc.a[1] + arc.b[1], arc.a[2] + arc.b[2]];
    const len = Math.hypot(m0, m1, m2);
    if (arc.lengthRad > 0 && len > 1e-9) mid.set([m0 / len, m1 / len, m2 / len], i * 3);
    else mid.set(arc.a, i * 3);
    reach[i] = arc.lengthRad > 0 ? 2 * Math.sin(arc.lengthRad / 4) : 0;
  });

  // Per-query state shared with the search callback, so a query allocates (almost) nothing.
  let p: Vec3 = [0, 0, 0];
  let bestRad = Number.POSITIVE_INFINITY;
  let bestAlongRad = 0;
  let bestArc = -1;
  let sinBest = 2;
  /** The chord of the best distance, plus a hair against rounding: only arcs surely farther are passed over. */
  let chordBest = Number.POSITIVE_INFINITY;
  const scratch: ArcProjection = { distanceRad: 0, alongRad: 0 };
  const visit = (i: number): boolean => {
    const arc = arcs[i]!;
    // |p·n| is the sine of the distance to the whole great circle, a lower bound: most candidates stop here.
    const { n } = arc;
    if (arc.lengthRad > 0 && Math.abs(p[0] * n[0] + p[1] * n[1] + p[2] * n[2]) > sinBest) return false;
    // Far off the route many great circles pass near: the midpoint's chord bounds the arc's distance too.
    const k = i * 3;
    if (Math.hypot(p[0] - mid[k]!, p[1] - mid[k + 1]!, p[2] - mid[k + 2]!) - reach[i]! > chordBest)
      return false;
    const r = projectOnArc(p, arc, scratch);
    if (r.distanceRad < bestRad || (r.distanceRad === bestRad && i < bestArc)) {
      bestRad = r.distanceRad;
      bestAlongRad = r.alongRad;
      bestArc = i;
      sinBest = bestRad < Math.PI / 2 ? Math.sin(bestRad) : 2;
      chordBest = 2 * Math.sin(Math.min(bestRad, Math.PI) / 2) + 1e-9;
    }
    return false;
  };

  /** Visits every arc whose box meets the box of the spherical cap of angular radius δ around (lat, lon). */
  function searchCap(lat: number, lon: number, δ: number): void {
    const φ = lat / DEG;
    const minLat = (φ - δ) * DEG;
    const maxLat = (φ + δ) * DEG;
    const dLon = capHalfWidthDeg(lat, δ);
    if (dLon === undefined) {
      treeSome(tree, tree.minX, Math.max(-90, minLat), tree.maxX, Math.min(90, maxLat), visit);
      return;
    }
    // Arcs are stored unwrapped, so the cap is looked for in every 360° copy the route's longitudes reach.
    const kMin = Math.ceil((tree.minX - (lon + dLon)) / 360);
    const kMax = Math.floor((tree.maxX - (lon - dLon)) / 360);
    for (let k = kMin; k <= kMax; k++) {
      treeSome(tree, lon - dLon + 360 * k, minLat, lon + dLon + 360 * k, maxLat, visit);
    }
  }

  /** The arc the last query found: a shipment's fixes come one after another, so it bounds the next one's answer. */
  let hint = -1;

  function locate(q: LatLon): RouteFix {
    p = toVec3(q.lat, q.lon);
    bestRad = Number.POSITIVE_INFINITY;
    sinBest = 2;
    chordBest = Number.POSITIVE_INFINITY;
    bestArc = -1;
    let δ = FIRST_RADIUS_RAD;
    if (hint >= 0) {
      // The distance to the last answer's arc bounds the nearest: one search over that cap settles it (the same
      // answer as growing the cap, since the lowest index wins a tie either way), where a fix far off the route
      // would otherwise grow it step by step.
      visit(hint);
      δ = bestRad * (1 + 1e-9) + 1e-12;
    }
    for (;;) {
      searchCap(q.lat, q.lon, δ);
      // Any arc nearer than δ meets the cap, hence its box meets the cap's box: the best found is the best.
      if (bestRad <= δ || δ >= Math.PI) break;
      δ = bestArc >= 0 ? bestRad * (1 + 1e-9) + 1e-12 : Math.min(Math.PI, δ * GROWTH);
    }
    const arc = arcs[bestArc];
    if (!arc) throw new Error(`cannot locate (${q.lat}, ${q.lon}): latitude and longitude must be finite`);
    hint = bestArc;
    return {
      crossTrackKm: bestRad * EARTH_RADIUS_KM,
      alongKm: startKm[bestArc]! + bestAlongRad * EARTH_RADIUS_KM,
      legIndex: legOf[bestArc]!,
      routeBearingDeg: arcBearingDeg(arc, bestAlongRad),
    };
  }

  return { route, locate };
}
