// Clear boxes (a lon/lat box no border of the selected zones reaches): every point of a box lies in exactly the
// zones it names, no segment between two of its points crosses a border of a selected zone, and the distance to the
// nearest selected border from a point of a box in no zone is at least the distance to the box's sides. Random
// boxes over the 10m world, checked against the index's own lookups.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../bench/zones.bench.ts';
import { loadCountryZones } from '../../../src/geo/countries.ts';
import { loadPolicy } from '../../../src/geo/policy.ts';
import type { Zone } from '../../../src/geo/types.ts';
import { clearBoxMarginKm } from '../../../src/geo/zone-clear.ts';
import { buildZoneIndex } from '../../../src/geo/zone-index.ts';

const policy = loadPolicy();
const index = buildZoneIndex(loadCountryZones(policy, '10m'));
const selected = (z: Zone) => z.tier === 'restricted' || z.tier === 'licenseRequired';
const ids = (zones: Zone[]) => zones.map((z) => z.id);

describe('clear boxes', () => {
  it('hold: the same zones everywhere in a box, no border crossed inside it, distances at least to the sides', () => {
    const random = seededRandom(5);
    let boxes = 0;
    let insideBoxes = 0;
    for (let n = 0; n < 400; n++) {
      const p = { lat: -60 + 130 * random(), lon: -180 + 360 * random() };
      const c = index.clearBox(p, selected, 400, 20);
      if (!c) continue;
      boxes++;
      if (c.inside) insideBoxes++;
      expect(ids(index.zonesAt(p, selected))).toEqual(c.inside ?? []);
      const [x0, y0, x1, y1] = c.box;
      const at = () => ({ lon: x0 + (x1 - x0) * random(), lat: y0 + (y1 - y0) * random() });
      for (let k = 0; k < 10; k++) {
        const a = at();
        const b = at();
        expect(ids(index.zonesAt(a, selected))).toEqual(c.inside ?? []);
        // Only the zones the ends lie in: no border crossed between them.
        expect(ids(index.zonesCrossed(a, b, selected)).sort()).toEqual([...(c.inside ?? [])].sort());
        if (!c.inside) {
          const near = index.nearest(a, selected, 3000);
          if (near) expect(near.distanceKm).toBeGreaterThanOrEqual(clearBoxMarginKm(c, a));
        }
      }
      expect(index.stillClear(c, selected)).toBe(true);
      // A zone near the box that the filter now selects, or one it lies in that it no longer does: not clear.
      if (c.allowed[0]) expect(index.stillClear(c, (z) => selected(z) || z.id === c.allowed[0])).toBe(false);
      if (c.inside) expect(index.stillClear(c, (z) => selected(z) && z.id !== c.inside![0])).toBe(false);
    }
    expect(boxes).toBeGreaterThan(200);
    expect(insideBoxes).toBeGreaterThan(5);
  });

  it('is refused by another index', () => {
    const c = index.clearBox({ lat: 0, lon: -140 }, selected, 400, 20)!;
    expect(c).toBeDefined();
    const other = buildZoneIndex(loadCountryZones(policy, '50m'));
    expect(other.stillClear(c, selected)).toBe(false);
  });
});
