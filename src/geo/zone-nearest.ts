// The nearest border of the zones a filter selects: great-circle distance from a point to the real edges (taken as
// arcs) of their rings. Candidate rings are opened nearest-first by a lower bound of their box; inside a ring, a
// branch and bound over its edge tree opens only nodes whose box (padded by the ring's arc bulge) could hold an
// edge nearer than the best found so far, nearer children first. Same answer as measuring every edge, in a few
// dozen box tests instead of thousands of edges.
import type { RingStore } from './ring-store.ts';
import { capBox, EARTH_RADIUS_KM, pointToArcKmVec } from './spherical.ts';
import type { LatLon } from './types.ts';
import { toVec3 } from './vec3.ts';

/** Slightly under the true 111.195 km, so latitude gaps converted with it stay lower bounds. */
export const KM_PER_DEG_LAT = 111.19;
const RAD = Math.PI / 180;

/**
 * A lower bound of the great-circle distance from (pLat, pLon) to anything in the lon/lat box, km: the latitude
 * gap along a meridian, or the distance to the meridian at the longitude gap, whichever is larger
 * (R·cosφ·sin Δλ ≤ R·asin(cosφ·sin Δλ), the distance to that meridian's great circle).
 */
export function boxLowerBoundKm(
  pLat: number,
  pLon: number,
  cosLat: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number {
  const latGap = Math.max(0, y0 - pLat, pLat - y1);
  let lonKm = 0;
  if (!(x0 <= pLon && pLon <= x1)) {
    const lonGap = Math.min((x0 - pLon + 360) % 360, (pLon - x1 + 360) % 360);
    lonKm =
      lonGap >= 90
        ? (90 - Math.abs(pLat)) * RAD * EARTH_RADIUS_KM
        : cosLat * Math.sin(lonGap * RAD) * EARTH_RADIUS_KM;
  }
  return Math.max(latGap * KM_PER_DEG_LAT, lonKm) * 0.9999;
}

/**
 * `passes(zone)` is the caller's filter for the current call; `call` a number unique to that call. `p` must have
 * its longitude normalised. Returns the zone index and distance of the nearest border within maxKm.
 */
export function nearestFinder(store: RingStore, passes: (zone: number) => boolean) {
  const { ux, uy, uz, cutLine, start, end, box, bulge, edgeTrees, ringTree } = store;
  const ringZone = store.zone;
  let [px, py, pz, pLon, pLat, cosLat, pad, base] = [0, 0, 0, 0, 0, 1, 0, 0];
  let [bestKm, bestZone, curZone] = [0, -1, -1];
  const lowerKm = (x0: number, y0: number, x1: number, y1: number) =>
    boxLowerBoundKm(pLat, pLon, cosLat, x0, y0 - pad, x1, y1 + pad);
  const measureEdge = (i: number) => {
    const k = base + i;
    if (cutLine[k] === 1) return;
    const d = pointToArcKmVec(px, py, pz, ux[k]!, uy[k]!, uz[k]!, ux[k + 1]!, uy[k + 1]!, uz[k + 1]!);
    if (d < bestKm) {
      bestKm = d;
      bestZone = curZone;
    }
  };
  const nodeStack = new Int32Array(4096);
  const levelStack = new Int32Array(4096);
  const childLb = new Float64Array(64);
  const childNode = new Int32Array(64);
  const measureRing = (r: number) => {
    curZone = ringZone[r]!;
    base = start[r]!;
    pad = bulge[r]!;
    const tree = edgeTrees[r];
    if (tree === undefined) {
      for (let i = 0, n = end[r]! - base; i < n; i++) measureEdge(i);
      return;
    }
    const { _boxes: boxes, _indices: indices, _levelBounds: levelBounds, nodeSize } = tree;
    const leaves4 = tree.numItems * 4;
    let top = 0;
    nodeStack[top] = boxes.length - 4;
    levelStack[top++] = levelBounds.length - 1;
    while (top > 0) {
      const node = nodeStack[--top]!;
      const level = levelStack[top]!;
      const stop = Math.min(node + nodeSize * 4, levelBounds[level]!);
      if (node < leaves4) {
        for (let pos = node; pos < stop; pos += 4) {
          if (lowerKm(boxes[pos]!, boxes[pos + 1]!, boxes[pos + 2]!, boxes[pos + 3]!) < bestKm)
            measureEdge(indices[pos >> 2]!);
        }
        continue;
      }
      // Children that could hold a nearer edge, pushed farthest first so the nearest is opened next.
      let n = 0;
      for (let pos = node; pos < stop; pos += 4) {
        const lb = lowerKm(boxes[pos]!, boxes[pos + 1]!, boxes[pos + 2]!, boxes[pos + 3]!);
        if (lb >= bestKm) continue;
        let k = n++;
        for (; k > 0 && childLb[k - 1]! < lb; k--) {
          childLb[k] = childLb[k - 1]!;
          childNode[k] = childNode[k - 1]!;
        }
        childLb[k] = lb;
        childNode[k] = indices[pos >> 2]!;
      }
      for (let k = 0; k < n; k++) {
        nodeStack[top] = childNode[k]!;
        levelStack[top++] = level - 1;
      }
    }
  };
  /** As boxLowerBoundKm for ring r's box, with the exact distance to the meridian: it orders the rings. */
  const ringLowerBoundKm = (r: number): number => {
    const b = r * 4;
    const latGap = Math.max(0, box[b + 1]! - bulge[r]! - pLat, pLat - box[b + 3]! - bulge[r]!);
    const inLon = box[b]! <= pLon && pLon <= box[b + 2]!;
    const lonGap = inLon ? 0 : Math.min((box[b]! - pLon + 360) % 360, (pLon - box[b + 2]! + 360) % 360);
    const lonKm =
      lonGap >= 90
        ? (90 - Math.abs(pLat)) * RAD * EARTH_RADIUS_KM
        : Math.asin(cosLat * Math.sin(lonGap * RAD)) * EARTH_RADIUS_KM;
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
    cosLat = Math.cos(pLat * RAD);
    // Nothing beyond maxKm is wanted: it bounds the search from the start.
    [bestKm, bestZone] = [maxKm + 1e-9, -1];
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
      if (ringLowerKm[r]! > bestKm) break;
      measureRing(r);
    }
    return bestZone >= 0 && bestKm <= maxKm ? { zone: bestZone, km: bestKm } : undefined;
  };
}
