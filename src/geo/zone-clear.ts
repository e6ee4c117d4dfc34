// A clear box: a lon/lat rectangle around a point that no border of a zone of a filter reaches — neither a planar
// edge of its rings (cut lines included) nor the great-circle arc of one (edge boxes padded by the ring's bulge).
// Then every point of the box lies in the same such zones as the point (`inside`, usually none), no planar segment
// between two of its points crosses a border of one, and, when the point lies in none, the great-circle distance
// from a point of the box to any of them is at least its distance to the box's sides. The checks keep one per shipment to skip zone lookups while the
// track stays inside it. It names the zones the filter let through whose rings come near the box, so a caller
// can tell later whether the filter (licences, the shipment's own list) still lets them through.
import type { RingStore } from './ring-store.ts';
import { EARTH_RADIUS_KM } from './spherical.ts';
import { treeSome } from './tree-walk.ts';
import type { ClearBox, LatLon, Zone } from './types.ts';

const RAD = Math.PI / 180;
/** Slightly over the true 111.195 km, so a box drawn with it is no larger than asked. */
const KM_PER_DEG = 111.2;

export function clearFinder(
  store: RingStore,
  zones: Zone[],
  fingerprint: string,
  passes: (zone: number) => boolean,
  zonesAt: (p: LatLon) => number[],
) {
  const { xs, ys, start, end, box, bulge, edgeTrees, ringTree } = store;
  const ringZone = store.zone;
  const maxBulge = bulge.reduce((m, b) => Math.max(m, b), 0);
  let [minX, minY, maxX, maxY] = [0, 0, 0, 0];
  const allowed: number[] = [];
  /** Whether a selected ring reaches the box; records the zones let through that come near it. */
  const blocks = (r: number): boolean => {
    const z = ringZone[r]!;
    const pad = bulge[r]!;
    const b = r * 4;
    if (box[b]! > maxX || box[b + 2]! < minX || box[b + 1]! - pad > maxY || box[b + 3]! + pad < minY)
      return false;
    if (!passes(z)) {
      if (!allowed.includes(z)) allowed.push(z);
      return false;
    }
    const [lo, hi] = [minY - pad, maxY + pad];
    const tree = edgeTrees[r];
    probed = r;
    if (tree !== undefined) return treeSome(tree, minX, lo, maxX, hi, blockedBy);
    for (let k = start[r]!; k < end[r]!; k++) if (edgeMeets(k, lo, hi)) return blockedBy(k - start[r]!);
    return false;
  };
  const edgeMeets = (k: number, lo: number, hi: number) => {
    const [x1, y1, x2, y2] = [xs[k]!, ys[k]!, xs[k + 1]!, ys[k + 1]!];
    return (
      Math.min(x1, x2) <= maxX && Math.max(x1, x2) >= minX && Math.min(y1, y2) <= hi && Math.max(y1, y2) >= lo
    );
  };
  // The edge that blocked the last box: a track along a border meets it again at once (a box it blocks is blocked).
  let [probed, blockingRing, blockingEdge] = [-1, -1, -1];
  const blockedBy = (i: number) => {
    blockingRing = probed;
    blockingEdge = start[probed]! + i;
    return true;
  };
  const blockedAgain = (): boolean => {
    const r = blockingRing;
    if (r < 0 || !passes(ringZone[r]!)) return false;
    return edgeMeets(blockingEdge, minY - bulge[r]!, maxY + bulge[r]!);
  };
  /** Whether a border reaches the box of half-size h around p (the box and the zones near it left in minX…, allowed). */
  const blocked = (p: LatLon, h: number, cos: number, again = false): boolean => {
    const dLat = h / KM_PER_DEG;
    // Under 180° wide: two points of the box are never joined the other way round the globe.
    const dLon = Math.min(dLat / cos, 89);
    [minX, maxX] = [Math.max(-180, p.lon - dLon), Math.min(180, p.lon + dLon)];
    [minY, maxY] = [Math.max(-90, p.lat - dLat), Math.min(90, p.lat + dLat)];
    allowed.length = 0;
    if (again && blockedAgain()) return true;
    return treeSome(ringTree, minX, minY - maxBulge, maxX, maxY + maxBulge, blocks);
  };
  /** The largest box found around p, halving from halfKm down to minHalfKm; p's longitude normalised. */
  return (p: LatLon, halfKm: number, minHalfKm: number): ClearBox | undefined => {
    const cos = Math.max(Math.cos(p.lat * RAD), 0.01);
    // A border that reaches the smallest box reaches every larger one: near borders, one try says there is none.
    let smallest = halfKm;
    while (smallest / 2 >= minHalfKm) smallest /= 2;
    if (smallest < minHalfKm || blocked(p, smallest, cos, true)) return undefined;
    const inside: string[] = [];
    for (const z of zonesAt(p)) if (passes(z)) inside.push(zones[z]!.id);
    for (let h = halfKm; h >= minHalfKm; h /= 2) {
      if (blocked(p, h, cos, h !== smallest)) continue;
      return {
        box: [minX, minY, maxX, maxY],
        allowed: allowed.map((z) => zones[z]!.id),
        ...(inside.length > 0 ? { inside } : {}),
        index: fingerprint,
      };
    }
    return undefined;
  };
}

/** Whether p lies in the box. */
export function inClearBox(c: ClearBox, p: LatLon): boolean {
  const [x0, y0, x1, y1] = c.box;
  return p.lon >= x0 && p.lon <= x1 && p.lat >= y0 && p.lat <= y1;
}

/** A lower bound of the great-circle distance from p (inside the box) to anything outside it, km. */
export function clearBoxMarginKm(c: ClearBox, p: LatLon): number {
  if (c.inside) return 0;
  const [x0, y0, x1, y1] = c.box;
  const latKm = Math.min(p.lat - y0, y1 - p.lat) * 111.19;
  const lonGap = Math.min(p.lon - x0, x1 - p.lon);
  const lonKm = Math.cos(p.lat * RAD) * Math.sin(lonGap * RAD) * EARTH_RADIUS_KM;
  return Math.max(0, Math.min(latKm, lonKm) * 0.9999);
}
