// The nearest border of the zones a filter selects: great-circle distance from a point to the real edges (taken as
// arcs) of their rings. Candidate rings are opened nearest-first by a lower bound of their box; each is searched in
// a widening cap until its best edge lies inside the cap, and an edge whose box lies beyond the cap of the best
// distance so far is skipped unmeasured. A ring whose bound exceeds the best distance found is never opened.
import type { RingStore } from './ring-store.ts';
import { capBox, EARTH_RADIUS_KM, pointToArcKmVec } from './spherical.ts';
import type { LatLon } from './types.ts';
import { toVec3 } from './vec3.ts';

/** Slightly under the true 111.195 km, so latitude gaps converted with it stay lower bounds. */
const KM_PER_DEG_LAT = 111.19;
const RAD = Math.PI / 180;
/** A ring is searched this far beyond its lower bound first, doubling after: most answers are close. */
const FIRST_SEARCH_KM = 50;
const HALF_CIRCUMFERENCE_KM = Math.PI * EARTH_RADIUS_KM;

/**
 * `passes(zone)` is the caller's filter for the current call; `call` a number unique to that call. `p` must have
 * its longitude normalised. Returns the zone index and distance of the nearest border within maxKm.
 */
export function nearestFinder(store: RingStore, passes: (zone: number) => boolean) {
  const { ux, uy, uz, cutLine, start, end, box, bulge, edgeTrees, ringTree } = store;
  const ringZone = store.zone;
  let [px, py, pz, pLon, pLat, pad, base] = [0, 0, 0, 0, 0, 0, 0];
  let [reachLat, reachLon, bestKm, bestZone, curZone] = [0, 0, 0, -1, -1];
  const measureEdge = (i: number, x0?: number, y0?: number, x1?: number, y1?: number) => {
    const k = base + i;
    if (cutLine[k] === 1) return false;
    if (y0 !== undefined && (y0 - pad > pLat + reachLat || y1! + pad < pLat - reachLat)) return false;
    if (x0 !== undefined && reachLon < 180 && !lonReachable(x0, x1!)) return false;
    const d = pointToArcKmVec(px, py, pz, ux[k]!, uy[k]!, uz[k]!, ux[k + 1]!, uy[k + 1]!, uz[k + 1]!);
    if (d < bestKm) {
      bestKm = d;
      bestZone = curZone;
      const cap = capBox({ lat: pLat, lon: 0 }, d);
      reachLat = d / KM_PER_DEG_LAT;
      reachLon = cap.lonRanges[0]![0] === -180 ? 360 : cap.lonRanges[0]![1];
    }
    return false;
  };
  /** Whether the lon interval [x0, x1] meets [pLon − reachLon, pLon + reachLon], modulo 360. */
  const lonReachable = (x0: number, x1: number) => {
    const lo = pLon - reachLon;
    const hi = pLon + reachLon;
    return (x0 <= hi && x1 >= lo) || (x0 + 360 <= hi && x1 + 360 >= lo) || (x0 - 360 <= hi && x1 - 360 >= lo);
  };
  /** Measures the edges of ring r within radiusKm of p. */
  const measureRing = (r: number, p: LatLon, radiusKm: number) => {
    curZone = ringZone[r]!;
    base = start[r]!;
    pad = bulge[r]!;
    const tree = edgeTrees[r];
    if (tree === undefined) {
      for (let i = 0, n = end[r]! - base; i < n; i++) measureEdge(i);
      return;
    }
    const cap = capBox(p, radiusKm);
    for (const [lo, hi] of cap.lonRanges) {
      tree.search(lo, cap.minLat - pad, hi, cap.maxLat + pad, measureEdge);
    }
  };
  /**
   * A lower bound of the distance from p to anything in ring r's box (arcs included), km: the latitude gap
   * along a meridian, or the distance to the meridian at the longitude gap, whichever is larger.
   */
  const ringLowerBoundKm = (r: number): number => {
    const b = r * 4;
    const latGap = Math.max(0, box[b + 1]! - bulge[r]! - pLat, pLat - box[b + 3]! - bulge[r]!);
    const inLon = box[b]! <= pLon && pLon <= box[b + 2]!;
    const lonGap = inLon ? 0 : Math.min((box[b]! - pLon + 360) % 360, (pLon - box[b + 2]! + 360) % 360);
    const lonKm =
      lonGap >= 90
        ? (90 - Math.abs(pLat)) * RAD * EARTH_RADIUS_KM
        : Math.asin(Math.cos(pLat * RAD) * Math.sin(lonGap * RAD)) * EARTH_RADIUS_KM;
    return Math.max(latGap * KM_PER_DEG_LAT, lonKm) * 0.9999;
  };
  const ringSeen = new Uint32Array(start.length);
  const ringLowerKm = new Float64Array(start.length);
  const maxBulge = bulge.reduce((m, b) => Math.max(m, b), 0);
  const candidates: number[] = [];
  const byLowerBound = (a: number, b: number) => ringLowerKm[a]! - ringLowerKm[b]!;

  return (p: LatLon, maxKm: number, call: number): { zone: number; km: number } | undefined => {
    [pLon, pLat] = [p.lon, p.lat];
    [px, py, pz] = toVec3(pLat, pLon);
    [bestKm, bestZone, reachLat, reachLon] = [Number.POSITIVE_INFINITY, -1, 180, 360];
    const cap = capBox(p, maxKm);
    candidates.length = 0;
    for (const [lo, hi] of cap.lonRanges) {
      for (const r of ringTree.search(lo, cap.minLat - maxBulge, hi, cap.maxLat + maxBulge)) {
        if (ringSeen[r] === call || !passes(ringZone[r]!)) continue;
        ringSeen[r] = call;
        ringLowerKm[r] = ringLowerBoundKm(r);
        candidates.push(r);
      }
    }
    candidates.sort(byLowerBound);
    for (const r of candidates) {
      const lowerKm = ringLowerKm[r]!;
      if (lowerKm > Math.min(bestKm, maxKm)) break;
      for (let radiusKm = Math.max(2 * lowerKm, lowerKm + FIRST_SEARCH_KM); ; radiusKm *= 2) {
        const limitKm = Math.min(bestKm, maxKm);
        measureRing(r, p, Math.min(radiusKm, limitKm));
        // (A ring of cut lines only has nothing to measure: stop once the cap covers the globe.)
        if (bestKm <= radiusKm || radiusKm >= limitKm || radiusKm >= HALF_CIRCUMFERENCE_KM) break;
      }
    }
    return bestZone >= 0 && bestKm <= maxKm ? { zone: bestZone, km: bestKm } : undefined;
  };
}
