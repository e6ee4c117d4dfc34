// Storage of every ring of every zone in flat arrays, with a Flatbush over ring boxes and, for rings with many
// edges, one over their edges; plus the planar segment test the zone index uses on them.
import Flatbush from 'flatbush';
import { arcBulgeDeg } from './spherical.ts';
import type { ZoneInput } from './types.ts';
import { toVec3 } from './vec3.ts';

/** Rings with at most this many edges are scanned directly: a tree would cost more than it saves. */
const SMALL_RING_EDGES = 24;

export interface RingStore {
  /** Vertex coordinates; ring r owns vertices start[r]..end[r], closed (the last repeats the first). */
  xs: Float64Array;
  ys: Float64Array;
  /** Vertex unit vectors, so distances need no trigonometry per edge. */
  ux: Float64Array;
  uy: Float64Array;
  uz: Float64Array;
  /** 1 for edge k (vertex k → k+1) lying on a cut line. */
  cutLine: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  zone: Int32Array;
  /** minX, minY, maxX, maxY per ring. */
  box: Float64Array;
  /** Largest poleward bulge of an edge's great-circle arc beyond its planar box, degrees. */
  bulge: Float64Array;
  edgeTrees: Array<Flatbush | undefined>;
  ringTree: Flatbush;
}

export function storeRings(inputs: ZoneInput[]): RingStore {
  const rings: Array<{ zone: number; coords: number[][] }> = [];
  inputs.forEach((input, zone) => {
    const g = input.geometry;
    for (const coords of (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat()) {
      checkPlanar(coords, input.zone.id);
      if (coords.length >= 3) rings.push({ zone, coords });
    }
  });
  const n = rings.reduce((sum, r) => sum + r.coords.length + 1, 0);
  const s: RingStore = {
    xs: new Float64Array(n),
    ys: new Float64Array(n),
    ux: new Float64Array(n),
    uy: new Float64Array(n),
    uz: new Float64Array(n),
    cutLine: new Uint8Array(n),
    start: new Int32Array(rings.length),
    end: new Int32Array(rings.length),
    zone: new Int32Array(rings.length),
    box: new Float64Array(rings.length * 4),
    bulge: new Float64Array(rings.length),
    edgeTrees: [],
    ringTree: new Flatbush(Math.max(1, rings.length)),
  };
  let v = 0;
  rings.forEach(({ zone, coords }, r) => {
    s.start[r] = v;
    s.zone[r] = zone;
    for (const [x, y] of coords as Array<[number, number]>) {
      s.xs[v] = x;
      s.ys[v] = y;
      [s.ux[v], s.uy[v], s.uz[v]] = toVec3(y, x);
      v++;
    }
    // Close the ring if its input did not repeat the first vertex.
    if (s.xs[v - 1] !== s.xs[s.start[r]!] || s.ys[v - 1] !== s.ys[s.start[r]!])
      copyVertex(s, s.start[r]!, v++);
    s.end[r] = v - 1;
    const edges = s.end[r]! - s.start[r]!;
    const tree = edges > SMALL_RING_EDGES ? new Flatbush(edges) : undefined;
    let [minX, minY, maxX, maxY, bulge] = [180, 90, -180, -90, 0];
    for (let k = s.start[r]!; k < s.end[r]!; k++) {
      const x1 = s.xs[k]!;
      const y1 = s.ys[k]!;
      const x2 = s.xs[k + 1]!;
      const y2 = s.ys[k + 1]!;
      const cut = (x1 === x2 && Math.abs(x1) === 180) || (y1 === y2 && Math.abs(y1) === 90);
      s.cutLine[k] = +cut;
      if (!cut) bulge = Math.max(bulge, arcBulgeDeg(y1, x1, y2, x2));
      tree?.add(Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2));
      minX = Math.min(minX, x1);
      minY = Math.min(minY, y1);
      maxX = Math.max(maxX, x1);
      maxY = Math.max(maxY, y1);
    }
    tree?.finish();
    s.edgeTrees.push(tree);
    s.box.set([minX, minY, maxX, maxY], r * 4);
    s.bulge[r] = bulge;
    s.ringTree.add(minX, minY, maxX, maxY);
  });
  if (rings.length === 0) s.ringTree.add(999, 999, 999, 999);
  s.ringTree.finish();
  return s;
}

function copyVertex(s: RingStore, from: number, to: number): void {
  for (const a of [s.xs, s.ys, s.ux, s.uy, s.uz]) a[to] = a[from]!;
}

/** Refuses rings the planar index would get wrong: longitudes beyond ±180° or edges jumping across it. */
function checkPlanar(ring: number[][], zoneId: string): void {
  for (let i = 0; i < ring.length; i++) {
    const [x, y] = [ring[i]![0]!, ring[i]![1]!];
    const prev = ring[i === 0 ? ring.length - 1 : i - 1]!;
    // A long edge is fine along a pole: that is how a ring around the pole closes in the plane.
    const alongPole = Math.abs(y) === 90 && prev[1] === y;
    if (!(Math.abs(x) <= 180 && Math.abs(y) <= 90) || (Math.abs(x - prev[0]!) > 180 && !alongPole)) {
      throw new Error(
        `zone ${zoneId}: a ring crosses ±180° or leaves the map; cut it with cutAtAntimeridian()`,
      );
    }
  }
}

/** Planar intersection of segments a–b and c–d, touching included: a fix on a border has reached the zone. */
export function segmentsMeet(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  dx: number,
  dy: number,
) {
  const d1 = orient(cx, cy, dx, dy, ax, ay);
  const d2 = orient(cx, cy, dx, dy, bx, by);
  const d3 = orient(ax, ay, bx, by, cx, cy);
  const d4 = orient(ax, ay, bx, by, dx, dy);
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  // Collinear or touching: an end of one segment lies on the other.
  return (
    (d1 === 0 && inBox(cx, cy, dx, dy, ax, ay)) ||
    (d2 === 0 && inBox(cx, cy, dx, dy, bx, by)) ||
    (d3 === 0 && inBox(ax, ay, bx, by, cx, cy)) ||
    (d4 === 0 && inBox(ax, ay, bx, by, dx, dy))
  );
}

function inBox(x1: number, y1: number, x2: number, y2: number, x: number, y: number): boolean {
  return Math.min(x1, x2) <= x && x <= Math.max(x1, x2) && Math.min(y1, y2) <= y && y <= Math.max(y1, y2);
}

function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}
