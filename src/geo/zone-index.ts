// The zone index: which zones contain a point, which zones a segment between two fixes enters, and how far
// the nearest zone of interest is, in microseconds, without ever looping over all zones.
//
// Every ring of every zone is stored once in flat arrays. A Flatbush over ring bounding boxes finds the
// candidate rings; a ring with many edges has its own Flatbush over its edges, so a point-in-ring test is a
// ray query that visits only the edges the ray can meet. Membership is even-odd over all rings of a zone
// (outers and holes alike), so ring orientation does not matter.
//
// Geometry is planar in lon/lat and must not cross ±180° (RFC 7946): cut spherical input first with
// cutAtAntimeridian() (countries.ts). Edges lying on ±180° or along a pole are cut lines, not borders: they
// count for containment but never for crossings or distances. Distances are great-circle, to edges taken
// as great-circle arcs; edge boxes are padded by each ring's largest arc bulge so no candidate is missed.
import { buildRingGrid } from './ring-grid.ts';
import { segmentsMeet, storeRings } from './ring-store.ts';
import { densifyGreatCircle, haversineKm, normalizeLon } from './spherical.ts';
import { treeSome } from './tree-walk.ts';
import type { LatLon, Zone, ZoneFilter, ZoneIndex, ZoneInput } from './types.ts';
import { clearFinder } from './zone-clear.ts';
import { nearestFinder } from './zone-nearest.ts';

/** Longer segments are followed along the great circle in steps this long: the planar test then strays < ~2 km. */
export const DENSIFY_STEP_KM = 250;

export function buildZoneIndex(inputs: ZoneInput[]): ZoneIndex {
  const zones = inputs.map((i) => i.zone);
  const store = storeRings(inputs);
  const { xs, ys, cutLine, start, end, box, edgeTrees } = store;
  const grid = buildRingGrid(box, start.length);
  const ringZone = store.zone;

  // Per-call scratch, stamped rather than cleared, so a query never touches every zone. Queries share it,
  // so a filter must not call back into the same index.
  const zoneStamp = new Uint32Array(zones.length);
  const parity = new Uint8Array(zones.length);
  const passStamp = new Uint32Array(zones.length);
  const passValue = new Uint8Array(zones.length);
  const foundStamp = new Uint32Array(zones.length);
  let stamp = 0;
  let call = 0;
  let callFilter: ZoneFilter = () => false;
  const beginCall = (filter: ZoneFilter) => {
    call = (call + 1) >>> 0 || 1;
    callFilter = filter;
  };
  /** The caller's filter, evaluated at most once per zone per call. */
  const passes = (z: number): boolean => {
    if (passStamp[z] !== call) {
      passStamp[z] = call;
      passValue[z] = +callFilter(zones[z]!);
    }
    return passValue[z] === 1;
  };

  // Ray casting from (qx, qy) toward the nearest side of the ring's box. The half-open rule counts a ray
  // through a vertex once; every direction gives the same parity, the shortest visits the fewest edges.
  let [qx, qy, base, crossings] = [0, 0, 0, 0];
  const right = (i: number) => {
    const k = base + i;
    const y1 = ys[k]!;
    const y2 = ys[k + 1]!;
    if (y1 > qy !== y2 > qy && xs[k]! + ((qy - y1) * (xs[k + 1]! - xs[k]!)) / (y2 - y1) > qx) crossings++;
    return false;
  };
  const left = (i: number) => {
    const k = base + i;
    const y1 = ys[k]!;
    const y2 = ys[k + 1]!;
    if (y1 > qy !== y2 > qy && xs[k]! + ((qy - y1) * (xs[k + 1]! - xs[k]!)) / (y2 - y1) < qx) crossings++;
    return false;
  };
  const up = (i: number) => {
    const k = base + i;
    const x1 = xs[k]!;
    const x2 = xs[k + 1]!;
    if (x1 > qx !== x2 > qx && ys[k]! + ((qx - x1) * (ys[k + 1]! - ys[k]!)) / (x2 - x1) > qy) crossings++;
    return false;
  };
  const down = (i: number) => {
    const k = base + i;
    const x1 = xs[k]!;
    const x2 = xs[k + 1]!;
    if (x1 > qx !== x2 > qx && ys[k]! + ((qx - x1) * (ys[k + 1]! - ys[k]!)) / (x2 - x1) < qy) crossings++;
    return false;
  };
  const ringContains = (r: number, x: number, y: number): boolean => {
    qx = x;
    qy = y;
    base = start[r]!;
    crossings = 0;
    const tree = edgeTrees[r];
    if (tree === undefined) {
      for (let i = 0, n = end[r]! - base; i < n; i++) right(i);
      return (crossings & 1) === 1;
    }
    const toRight = box[r * 4 + 2]! - x;
    const toLeft = x - box[r * 4]!;
    const toTop = box[r * 4 + 3]! - y;
    const toBottom = y - box[r * 4 + 1]!;
    const shortest = Math.min(toRight, toLeft, toTop, toBottom);
    if (shortest === toRight) treeSome(tree, x, y, x + toRight, y, right);
    else if (shortest === toLeft) treeSome(tree, x - toLeft, y, x, y, left);
    else if (shortest === toTop) treeSome(tree, x, y, x, y + toTop, up);
    else treeSome(tree, x, y - toBottom, x, y, down);
    return (crossings & 1) === 1;
  };

  /** Indexes of the zones containing (x, y), written into `out`. */
  /** Indexes of the zones containing p (only those passing the call's filter when `filtered`), into `out`. */
  let [atX, atY, atFiltered, atOut] = [0, 0, false, [] as number[]];
  const visitAt = (r: number) => {
    const z = ringZone[r]!;
    // The filter first: a ray cast through a large ring costs more than a filter call.
    if ((atFiltered && !passes(z)) || !ringContains(r, atX, atY)) return;
    if (zoneStamp[z] !== stamp) {
      zoneStamp[z] = stamp;
      parity[z] = 0;
      atOut.push(z);
    }
    parity[z] = parity[z]! ^ 1;
  };
  const zonesAtInto = (p: LatLon, out: number[], filtered = false): number[] => {
    [atX, atY, atFiltered, atOut] = [normalizeLon(p.lon), p.lat, filtered, out];
    out.length = 0;
    stamp = (stamp + 1) >>> 0 || 1;
    grid.search(atX, atY, atX, atY, visitAt);
    let kept = 0;
    for (const z of out) if (parity[z] === 1) out[kept++] = z;
    out.length = kept;
    return out;
  };
  const scratch: number[] = [];

  // Does a real border edge of ring r meet the segment (sx1, sy1)–(sx2, sy2)?
  let [sx1, sy1, sx2, sy2, segMinX, segMinY, segMaxX, segMaxY] = [0, 0, 0, 0, 0, 0, 0, 0];
  const setSegment = (x1: number, y1: number, x2: number, y2: number) => {
    [sx1, sy1, sx2, sy2] = [x1, y1, x2, y2];
    [segMinX, segMinY, segMaxX, segMaxY] = [
      Math.min(x1, x2),
      Math.min(y1, y2),
      Math.max(x1, x2),
      Math.max(y1, y2),
    ];
  };
  const edgeMeetsSegment = (i: number) =>
    cutLine[base + i] === 0 &&
    segmentsMeet(sx1, sy1, sx2, sy2, xs[base + i]!, ys[base + i]!, xs[base + i + 1]!, ys[base + i + 1]!);
  const ringMeetsSegment = (r: number): boolean => {
    base = start[r]!;
    const tree = edgeTrees[r];
    if (tree !== undefined) return treeSome(tree, segMinX, segMinY, segMaxX, segMaxY, edgeMeetsSegment);
    for (let i = 0, n = end[r]! - base; i < n; i++) if (edgeMeetsSegment(i)) return true;
    return false;
  };

  const nearestBorder = nearestFinder(store, passes);
  const fingerprint = zoneFingerprint(zones, xs.length);
  const zoneById = new Map(zones.map((z) => [z.id, z]));
  const clear = clearFinder(store, zones, fingerprint, passes, (p) => zonesAtInto(p, scratch, true));

  // zonesCrossed's output and visitors, made once: a query allocates nothing but its answer.
  let crossedOut: Zone[] = [];
  const take = (z: number) => {
    if (foundStamp[z] !== call && passes(z)) {
      foundStamp[z] = call;
      crossedOut.push(zones[z]!);
    }
  };
  const visitSegment = (r: number) => {
    const z = ringZone[r]!;
    if (foundStamp[z] !== call && passes(z) && ringMeetsSegment(r)) take(z);
  };
  const checkSegment = () => grid.search(segMinX, segMinY, segMaxX, segMaxY, visitSegment);
  /** The zones (passing `filter`) holding the end of the last segment queried. A filter answers alike each time. */
  const lastEnd = {
    lat: Number.NaN,
    lon: Number.NaN,
    filter: undefined as ZoneFilter | undefined,
    zones: [] as number[],
  };

  return {
    fingerprint,
    zonesAt(p, filter) {
      if (filter === undefined) return zonesAtInto(p, scratch).map((z) => zones[z]!);
      beginCall(filter);
      return zonesAtInto(p, scratch, true).map((z) => zones[z]!);
    },

    countryAt(p) {
      for (const z of zonesAtInto(p, scratch)) if (zones[z]!.kind === 'country') return zones[z]!.country;
      return undefined;
    },

    zonesCrossed(a, b, filter) {
      beginCall(filter);
      const out: Zone[] = [];
      crossedOut = out;
      // A look-ahead steps on from where the last segment ended: the zones there are known already.
      if (a.lat === lastEnd.lat && a.lon === lastEnd.lon && filter === lastEnd.filter)
        for (const z of lastEnd.zones) take(z);
      else for (const z of zonesAtInto(a, scratch, true)) take(z);
      const atB = zonesAtInto(b, scratch, true);
      for (const z of atB) take(z);
      lastEnd.lat = b.lat;
      lastEnd.lon = b.lon;
      lastEnd.filter = filter;
      lastEnd.zones.length = 0;
      for (const z of atB) lastEnd.zones.push(z);
      const points = haversineKm(a, b) > DENSIFY_STEP_KM ? densifyGreatCircle(a, b, DENSIFY_STEP_KM) : [a, b];
      for (let i = 0; i + 1 < points.length; i++) {
        const [p, q] = [points[i]!, points[i + 1]!];
        const x1 = normalizeLon(p.lon);
        // Unwrap across ±180°, then test the part beyond the map's edge again, shifted back onto the map.
        let x2 = normalizeLon(q.lon);
        if (x2 - x1 > 180) x2 -= 360;
        else if (x2 - x1 < -180) x2 += 360;
        setSegment(x1, p.lat, x2, q.lat);
        checkSegment();
        if (Math.abs(x2) > 180) {
          const shift = x2 > 180 ? -360 : 360;
          setSegment(x1 + shift, p.lat, x2 + shift, q.lat);
          checkSegment();
        }
      }
      return out;
    },

    nearest(where, filter, maxKm) {
      beginCall(filter);
      const p = { lat: where.lat, lon: normalizeLon(where.lon) };
      for (const z of zonesAtInto(p, scratch, true)) return { zone: zones[z]!, distanceKm: 0 };
      const hit = nearestBorder(p, maxKm, call);
      return hit ? { zone: zones[hit.zone]!, distanceKm: hit.km } : undefined;
    },

    clearBox(where, filter, halfKm, minHalfKm) {
      beginCall(filter);
      return clear({ lat: where.lat, lon: normalizeLon(where.lon) }, halfKm, minHalfKm);
    },

    stillClear(c, filter) {
      if (c.index !== fingerprint) return false;
      for (const id of c.allowed) {
        const z = zoneById.get(id);
        if (!z || filter(z)) return false;
      }
      for (const id of c.inside ?? []) {
        const z = zoneById.get(id);
        if (!z || !filter(z)) return false;
      }
      return true;
    },

    zone: (id) => zoneById.get(id),
  };
}

/** FNV-1a over the zones' ids, kinds, tiers and countries and the vertex count, base 36. */
function zoneFingerprint(zones: Zone[], vertices: number): string {
  let h = 0x811c9dc5;
  const text = `${vertices}|${zones.map((z) => `${z.id},${z.kind},${z.tier},${z.country ?? ''}`).join('|')}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}
