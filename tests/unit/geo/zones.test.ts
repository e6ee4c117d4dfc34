// The zone index on real Natural Earth data at 50m and 10m: tiers of known places, points at sea, the
// antimeridian trap, agreement with a spherical reference (d3-geo), segment crossings, nearest borders.
import { geoDistance } from 'd3-geo';
import { describe, expect, it } from 'vitest';
import { buildSphericalReference, randomPoint, seededRandom } from '../../../bench/zones.bench.ts';
import { cutAtAntimeridian, loadCountryZones, type Resolution } from '../../../src/geo/countries.ts';
import { loadPolicy } from '../../../src/geo/policy.ts';
import { densifyGreatCircle, EARTH_RADIUS_KM, pointToArcKm } from '../../../src/geo/spherical.ts';
import type { LatLon, Zone, ZoneInput } from '../../../src/geo/types.ts';
import { buildZoneIndex } from '../../../src/geo/zone-index.ts';

const policy = loadPolicy();
const at = (lat: number, lon: number): LatLon => ({ lat, lon });
const ids = (zones: Zone[]) => zones.map((z) => z.id).sort();
const restricted = (z: Zone) => z.tier === 'restricted';
const only = (id: string) => (z: Zone) => z.id === id;

const world = (resolution: Resolution) => {
  const inputs = loadCountryZones(policy, resolution);
  return { inputs, index: buildZoneIndex(inputs), reference: buildSphericalReference(resolution, policy) };
};
const worlds = { '50m': world('50m'), '10m': world('10m') };
/**
 * What differs by resolution. The 50m Macau polygon lies ~3 km west of the real peninsula, so its point is
 * one inside that polygon (in reality Zhuhai). The d3 reference is ~6× slower at 10m: fewer points there.
 */
const settings = {
  '50m': { macau: at(22.223, 113.509), landPoints: 2000, brutePoints: 150 },
  '10m': { macau: at(22.19, 113.545), landPoints: 600, brutePoints: 40 },
} as const;

/** Brute force: great-circle distance to every real border edge of the zones passing `filter`. */
function bruteNearestKm(inputs: ZoneInput[], p: LatLon, filter: (z: Zone) => boolean): number {
  let best = Number.POSITIVE_INFINITY;
  for (const input of inputs.filter((i) => filter(i.zone))) {
    const g = input.geometry;
    for (const ring of (g.type === 'Polygon' ? [g.coordinates] : g.coordinates).flat()) {
      for (let k = 0; k + 1 < ring.length; k++) {
        const [x1, y1] = ring[k] as [number, number];
        const [x2, y2] = ring[k + 1] as [number, number];
        if ((x1 === x2 && Math.abs(x1) === 180) || (y1 === y2 && Math.abs(y1) === 90)) continue;
        best = Math.min(best, pointToArcKm(p.lat, p.lon, y1, x1, y2, x2));
      }
    }
  }
  return best;
}

describe.each(['50m', '10m'] as const)('zone index on Natural Earth %s', (resolution) => {
  const { inputs, index, reference } = worlds[resolution];
  const { macau, landPoints, brutePoints } = settings[resolution];

  it.each([
    ['Moscow', at(55.75, 37.62), 'RU'],
    ['Beijing', at(39.9, 116.4), 'CN'],
    ['Tehran', at(35.69, 51.39), 'IR'],
    ['Hong Kong (Sha Tin)', at(22.38, 114.19), 'HK'],
    ['Macau', macau, 'MO'],
    ['Somaliland (Hargeisa), taking Somalia’s tier', at(9.56, 44.06), 'SOL-Somaliland'],
  ])('puts %s in its zone with tier restricted', (_name, p, id) => {
    expect(ids(index.zonesAt(p))).toEqual([id]);
    expect(index.zonesAt(p)[0]!.tier).toBe('restricted');
  });

  it('gives Rotterdam no tier, Singapore watch and Dubai licenseRequired', () => {
    expect(index.zonesAt(at(51.92, 4.48)).map((z) => [z.id, z.tier])).toEqual([['NL', 'none']]);
    expect(index.zonesAt(at(1.35, 103.82)).map((z) => [z.id, z.tier])).toEqual([['SG', 'watch']]);
    expect(index.zonesAt(at(25.2, 55.27)).map((z) => [z.id, z.tier])).toEqual([['AE', 'licenseRequired']]);
    expect(index.countryAt(at(9.56, 44.06))).toBe('SO');
  });

  it.each([
    ['mid Indian Ocean', at(-20, 80)],
    ['Taiwan Strait centre', at(24.0, 119.5)],
    ['Strait of Hormuz shipping lane', at(26.4, 56.4)],
  ])('finds no zone at sea: %s', (_name, p) => {
    expect(index.zonesAt(p)).toEqual([]);
    expect(index.countryAt(p)).toBeUndefined();
    expect(reference(p)).toEqual([]);
  });

  it.each([
    ['Rovaniemi', 'FI', at(66.5, 25.7)],
    ['Kiruna', 'SE', at(67.86, 20.23)],
    ['interior Alaska', 'US', at(65, -150)],
    ['Iceland', 'IS', at(64.9, -18.5)],
    ['northern Canada', 'CA', at(67, -100)],
    ['Murmansk', 'RU', at(68.97, 33.07)],
    ['Norilsk', 'RU', at(69.35, 88.2)],
    ['Chukotka west of ±180', 'RU', at(66, 175)],
    ['Chukotka east of ±180', 'RU', at(66, -172)],
    ['Fiji west of ±180', 'FJ', at(-16.5, 179.5)],
    ['Fiji east of ±180', 'FJ', at(-16.8, -179.9)],
    ['Antarctica near the pole', 'AQ', at(-89.5, 0)],
  ])('gets the high-latitude and antimeridian cases right: %s → %s', (_name, country, p) => {
    expect(index.countryAt(p)).toBe(country);
  });

  it('reads longitudes beyond ±180 as their wrapped equivalent', () => {
    expect(index.countryAt(at(66, 188))).toBe('RU');
  });

  it(`agrees with d3-geo geoContains on ${landPoints} random land points, mismatches only next to borders`, () => {
    const rand = seededRandom(7);
    const mismatches: string[] = [];
    let land = 0;
    while (land < landPoints) {
      const p = randomPoint(rand);
      const want = reference(p);
      if (want.length === 0) continue;
      land++;
      const got = ids(index.zonesAt(p));
      if (got.join() === [...want].sort().join()) continue;
      const nearKm = bruteNearestKm(inputs, p, (z) => got.includes(z.id) || want.includes(z.id));
      mismatches.push(
        `${p.lat.toFixed(3)},${p.lon.toFixed(3)} index=${got} d3=${want} ${nearKm.toFixed(1)} km from a border`,
      );
      expect(nearKm).toBeLessThan(15);
    }
    if (mismatches.length > 0)
      console.info(`${resolution} index vs d3-geo mismatches:\n${mismatches.join('\n')}`);
    expect(mismatches.length).toBeLessThanOrEqual(landPoints * 0.005);
  });

  it('finds China between Almaty and Urumqi, and between Almaty and Ulaanbaatar with both ends outside it', () => {
    expect(ids(index.zonesCrossed(at(43.24, 76.89), at(43.83, 87.62), restricted))).toEqual(['CN']);
    const [almaty, ulaanbaatar] = [at(43.24, 76.89), at(47.92, 106.92)];
    expect(index.countryAt(almaty)).toBe('KZ');
    expect(index.countryAt(ulaanbaatar)).toBe('MN');
    expect(ids(index.zonesCrossed(almaty, ulaanbaatar, restricted))).toEqual(['CN']);
  });

  it('keeps a Taiwan Strait lane clear of China', () => {
    const [a, b] = [at(22.5, 118.8), at(25.3, 120.6)];
    expect(index.zonesCrossed(a, b, restricted)).toEqual([]);
    expect(index.nearest(at(24.0, 119.5), only('CN'), 500)!.distanceKm).toBeGreaterThan(50);
  });

  it('follows a segment across ±180 onto Chukotka from both directions', () => {
    const [chukchiSea, beringSea] = [at(70.5, 176.0), at(62.5, -179.5)];
    expect(index.zonesAt(chukchiSea)).toEqual([]);
    expect(index.zonesAt(beringSea)).toEqual([]);
    expect(ids(index.zonesCrossed(beringSea, chukchiSea, restricted))).toEqual(['RU']);
    expect(ids(index.zonesCrossed(chukchiSea, beringSea, restricted))).toEqual(['RU']);
    expect(index.zonesCrossed(at(55, 175), at(55, -175), () => true)).toEqual([]);
  });

  // Sampling through the d3 reference is slow at 10m; the crossing logic is the same at both resolutions.
  it.runIf(resolution === '50m').each([
    ['Helsinki → Anchorage over the Arctic', at(60.17, 24.94), at(61.2, -149.9)],
    ['Almaty → Ulaanbaatar', at(43.24, 76.89), at(47.92, 106.92)],
    ['Chukchi Sea → Bering Sea', at(70.5, 176.0), at(62.5, -179.5)],
  ])('matches dense sampling of the great circle: %s', (_name, a, b) => {
    const sampled = new Set(densifyGreatCircle(a, b, 2).flatMap((p) => reference(p)));
    expect(ids(index.zonesCrossed(a, b, () => true))).toEqual([...sampled].sort());
  });

  it('answers 0 inside a zone and undefined when nothing passes within maxKm', () => {
    expect(index.nearest(at(55.75, 37.62), restricted, 100)).toMatchObject({
      zone: { id: 'RU' },
      distanceKm: 0,
    });
    expect(index.nearest(at(51.92, 4.48), restricted, 500)).toBeUndefined();
  });

  it('puts the nearest restricted zone to Rotterdam more than 900 km away (Kaliningrad)', () => {
    const hit = index.nearest(at(51.92, 4.48), restricted, 3000)!;
    expect(hit.zone.id).toBe('RU');
    expect(hit.distanceKm).toBeGreaterThan(900);
    expect(hit.distanceKm).toBeLessThan(1200);
  });

  it.each(['RU', 'CN', 'KP'])(
    'measures the Sea of Japan off Vladivostok to %s within a tenth of d3 vertex distances',
    (id) => {
      const p = at(42.0, 132.5);
      const zone = inputs.find((i) => i.zone.id === id)!;
      const vertices = (
        zone.geometry.type === 'Polygon' ? [zone.geometry.coordinates] : zone.geometry.coordinates
      ).flat(2);
      const vertexKm = Math.min(
        ...vertices.map((v) => geoDistance([p.lon, p.lat], [v[0]!, v[1]!]) * EARTH_RADIUS_KM),
      );
      const got = index.nearest(p, only(id), 3000)!.distanceKm;
      expect(got).toBeLessThanOrEqual(vertexKm + 1e-6);
      expect(got).toBeGreaterThan(0.9 * vertexKm);
    },
  );

  it(`equals a brute-force search over every restricted border edge from ${brutePoints} random points`, () => {
    const rand = seededRandom(11);
    for (let i = 0; i < brutePoints; i++) {
      const p = randomPoint(rand);
      const hit = index.nearest(p, restricted, 3000);
      const brute = index.zonesAt(p).some(restricted) ? 0 : bruteNearestKm(inputs, p, restricted);
      if (brute > 3000) expect(hit).toBeUndefined();
      else expect(hit!.distanceKm).toBeCloseTo(brute, 6);
    }
  });
});

describe('antimeridian cutting and custom zones', () => {
  const square: ZoneInput = {
    zone: { id: 'sq', name: 'square across ±180', kind: 'custom', tier: 'watch' },
    geometry: cutAtAntimeridian({
      type: 'Polygon',
      coordinates: [
        [
          [170, 10],
          [-170, 10],
          [-170, 20],
          [170, 20],
          [170, 10],
        ],
      ],
    }),
  };
  const cap: ZoneInput = {
    zone: { id: 'cap', name: 'south polar cap', kind: 'custom', tier: 'restricted' },
    geometry: cutAtAntimeridian({
      type: 'Polygon',
      coordinates: [
        [
          [0, -80],
          [90, -80],
          [180, -80],
          [-90, -80],
          [0, -80],
        ],
      ],
    }),
  };

  it('cuts a ring crossing ±180 into pieces on both sides and closes a ring around a pole along it', () => {
    const small = buildZoneIndex([square, cap]);
    expect(ids(small.zonesAt(at(15, 175)))).toEqual(['sq']);
    expect(ids(small.zonesAt(at(15, -175)))).toEqual(['sq']);
    expect(small.zonesAt(at(15, 0))).toEqual([]);
    expect(ids(small.zonesAt(at(-85, 45)))).toEqual(['cap']);
    expect(small.zonesAt(at(-70, 45))).toEqual([]);
    // 5° of latitude (556 km) north of the square's northern border, on either side of ±180°, less the
    // ~0.07° its 10°-long edge bulges north as a great-circle arc.
    for (const p of [at(25, 175), at(25, -175)]) {
      const km = small.nearest(p, only('sq'), 2000)!.distanceKm;
      expect(km).toBeGreaterThan(540);
      expect(km).toBeLessThan(556);
    }
    expect(small.nearest(at(15, 179.9), only('sq'), 2000)!.distanceKm).toBe(0);
  });

  it('refuses a ring that jumps across ±180 uncut', () => {
    const raw: ZoneInput = {
      zone: { id: 'raw', name: 'uncut', kind: 'custom', tier: 'watch' },
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [170, 10],
            [-170, 10],
            [-170, 20],
            [170, 20],
            [170, 10],
          ],
        ],
      },
    };
    expect(() => buildZoneIndex([raw])).toThrow(/cutAtAntimeridian/);
  });

  it('returns a custom zone alongside the country, while countryAt still answers the country', () => {
    const port: ZoneInput = {
      zone: { id: 'port-x', name: 'free-trade zone', kind: 'custom', tier: 'watch', country: 'NL' },
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [4.3, 51.8],
            [4.6, 51.8],
            [4.6, 52.0],
            [4.3, 52.0],
            [4.3, 51.8],
          ],
        ],
      },
    };
    const withPort = buildZoneIndex([...worlds['50m'].inputs, port]);
    expect(ids(withPort.zonesAt(at(51.92, 4.48)))).toEqual(['NL', 'port-x']);
    expect(withPort.countryAt(at(51.92, 4.48))).toBe('NL');
  });
});
