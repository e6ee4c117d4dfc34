// The geometry queries remember a little between calls to be cheap per fix: route location starts from the arc the
// last query found, a segment starting where the last one ended reuses the zones there, a clear box first tries the
// edge that blocked the last one, tree queries share one stack. None of that may change an answer: the same queries
// asked along a track (memos hit) and in a shuffled order with unrelated queries between them (memos miss) answer
// the same, and the allocation-free tree walk finds what Flatbush finds.
import Flatbush from 'flatbush';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../bench/zones.bench.ts';
import { windowLegs } from '../../../src/checks/course.ts';
import { loadCountryZones } from '../../../src/geo/countries.ts';
import { loadPolicy } from '../../../src/geo/policy.ts';
import { indexRoute } from '../../../src/geo/route-index.ts';
import { buildPlannedRoute } from '../../../src/geo/routes.ts';
import { destinationPoint, haversineKm, initialBearingDeg } from '../../../src/geo/spherical.ts';
import { treeSome } from '../../../src/geo/tree-walk.ts';
import type { LatLon, Zone } from '../../../src/geo/types.ts';
import { buildZoneIndex } from '../../../src/geo/zone-index.ts';

const policy = loadPolicy();
const forbidden = (z: Zone) => z.tier === 'restricted' || z.tier === 'licenseRequired';
const restricted = (z: Zone) => z.tier === 'restricted';

/** A track that heads from `start` on a slowly turning course, `stepKm` per fix. */
function track(start: LatLon, bearing: number, stepKm: number, n: number, random: () => number): LatLon[] {
  const out: LatLon[] = [start];
  for (let i = 1; i < n; i++) {
    bearing += (random() - 0.5) * 20;
    out.push(destinationPoint(out[i - 1]!, bearing, stepKm));
  }
  return out;
}

function shuffled<T>(xs: T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('allocation-free tree walk', () => {
  it('visits what Flatbush.search finds and answers what Flatbush.collides answers', () => {
    const random = seededRandom(3);
    const tree = new Flatbush(3000);
    for (let i = 0; i < 3000; i++) {
      const [x, y] = [random() * 100, random() * 100];
      tree.add(x, y, x + random() * 3, y + random() * 3);
    }
    tree.finish();
    for (let q = 0; q < 300; q++) {
      const [x, y, w, h] = [random() * 100, random() * 100, random() * 10, random() * 10];
      const seen: number[] = [];
      treeSome(tree, x, y, x + w, y + h, (i) => {
        seen.push(i);
        return false;
      });
      expect(seen.sort((a, b) => a - b)).toEqual(tree.search(x, y, x + w, y + h).sort((a, b) => a - b));
      const odd = (i: number) => i % 7 === 3;
      expect(treeSome(tree, x, y, x + w, y + h, odd)).toBe(tree.collides(x, y, x + w, y + h, odd));
    }
  });
});

describe('memos between queries', () => {
  const index = buildZoneIndex(loadCountryZones(policy, '50m'));
  // Tracks along restricted and licence-required coasts and borders: South China Sea, Black Sea, Gulf, Baltic.
  const starts = [
    { lat: 19, lon: 116 },
    { lat: 43, lon: 33 },
    { lat: 27, lon: 51 },
    { lat: 57, lon: 20 },
  ];

  it('look-ahead steps and clear boxes answer the same, asked along a track or in any order', () => {
    const random = seededRandom(9);
    for (const start of starts) {
      const points = track(start, random() * 360, 60, 40, random);
      const steps = points.slice(1).map((b, i) => [points[i]!, b] as const);
      // Steps that start where the last ended, now and then under another filter or from a point beside it.
      const filter = (i: number) => (i % 3 === 2 ? restricted : forbidden);
      const from = (i: number) =>
        i % 5 === 4 ? { lat: steps[i]![0].lat, lon: steps[i]![0].lon + 0.5 } : steps[i]![0];
      const along = steps.map(([, b], i) => ({
        crossed: index.zonesCrossed(from(i), b, filter(i)).map((z) => z.id),
        box: index.clearBox(b, forbidden, 460, 69),
      }));
      const order = shuffled(
        steps.map((_, i) => i),
        random,
      );
      const apart = new Array<(typeof along)[number]>(steps.length);
      for (const i of order) {
        const [a, b] = steps[i]!;
        index.zonesAt({ lat: -a.lat, lon: -a.lon }, forbidden); // something else in between
        index.zonesCrossed({ lat: 0, lon: 0 }, { lat: 0.1, lon: 0.1 }, forbidden);
        const crossed = index.zonesCrossed(from(i), b, filter(i)).map((z) => z.id);
        index.clearBox({ lat: 0, lon: -150 }, forbidden, 460, 69);
        apart[i] = { crossed, box: index.clearBox(b, forbidden, 460, 69) };
      }
      expect(apart).toEqual(along);
    }
  });

  it('route location answers the same whichever fix was located before', () => {
    const random = seededRandom(21);
    const route = indexRoute(
      buildPlannedRoute({
        mode: 'sea',
        origin: { lat: 22.61, lon: 120.27 },
        destination: { lat: 51.9, lon: 4.4 },
      }),
    );
    // On the lane, off it and far off it (a diverted ship), in order and shuffled.
    const points = starts.flatMap((s) => track(s, random() * 360, 80, 30, random));
    const along = points.map((p) => route.locate(p));
    const order = shuffled(
      points.map((_, i) => i),
      random,
    );
    const apart = new Array<(typeof along)[number]>(points.length);
    for (const i of order) apart[i] = route.locate(points[i]!);
    expect(apart).toEqual(along);
  });

  it("a diversion window's legs and course are haversineKm's and heldCourse's, to the bit", () => {
    const random = seededRandom(4);
    for (let k = 0; k < 500; k++) {
      const n = 2 + Math.floor(random() * 6);
      const w = track(
        { lat: -70 + 140 * random(), lon: -180 + 360 * random() },
        random() * 360,
        random() * 60,
        n,
        random,
      );
      const legs = windowLegs(w, 35);
      expect(legs.course).toBe(heldCourse(w, 35));
      let travelled = 0;
      for (let i = 1; i < n; i++) {
        expect(legs.legKm[i - 1]).toBe(haversineKm(w[i - 1]!, w[i]!));
        travelled += haversineKm(w[i - 1]!, w[i]!);
      }
      expect(legs.travelledKm).toBe(travelled);
    }
  });
});

/** The course held over a window, written plainly with haversineKm and initialBearingDeg: windowLegs' reference. */
function heldCourse(window: LatLon[], maxSpreadDeg: number): number | undefined {
  const angleDiff = (a: number, b: number) => {
    const d = Math.abs(a - b) % 360;
    return d > 180 ? 360 - d : d;
  };
  const first = window[0];
  const last = window.at(-1);
  if (!first || !last || haversineKm(first, last) < 1) return undefined;
  const course = initialBearingDeg(first, last);
  for (let i = 1; i < window.length; i++) {
    const a = window[i - 1]!;
    const b = window[i]!;
    if (haversineKm(a, b) < 0.5) continue;
    if (angleDiff(initialBearingDeg(a, b), course) > maxSpreadDeg) return undefined;
  }
  return course;
}
