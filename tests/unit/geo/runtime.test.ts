// The geo runtime takes custom zone rows and re-indexes only when they change; it reads no database itself.
import type { Polygon } from 'geojson';
import { describe, expect, it } from 'vitest';
import { createGeoRuntime } from '../../../src/geo/runtime.ts';
import type { CustomZoneRow } from '../../../src/geo/types.ts';

const square = (lon: number, lat: number, sizeDeg: number): Polygon => ({
  type: 'Polygon',
  coordinates: [
    [
      [lon, lat],
      [lon + sizeDeg, lat],
      [lon + sizeDeg, lat + sizeDeg],
      [lon, lat + sizeDeg],
      [lon, lat],
    ],
  ],
});

const row = (id: string, geometry: Polygon, createdAt = new Date('2025-01-01T00:00:00Z')): CustomZoneRow => ({
  id,
  name: id,
  tier: 'restricted',
  country: null,
  geometry,
  createdAt,
});

describe('geo runtime custom zones', () => {
  const geo = createGeoRuntime({ resolution: '50m' });
  const atSea = { lat: -30.5, lon: -20.5 };
  const ids = () =>
    geo
      .zones()
      .zonesAt(atSea)
      .map((z) => z.id);

  it('indexes the rows it is given and rebuilds only when they change', () => {
    expect(ids()).toEqual([]);
    expect(geo.setCustomZones([row('z-sea', square(-21, -31, 1))])).toBe(true);
    expect(ids()).toEqual(['z-sea']);
    const index = geo.zones();
    expect(geo.setCustomZones([row('z-sea', square(-21, -31, 1))])).toBe(false);
    expect(geo.zones()).toBe(index);
    expect(geo.setCustomZones([])).toBe(true);
    expect(ids()).toEqual([]);
  });

  it('cuts a zone drawn across ±180 there, so it holds points on both sides', () => {
    const across: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [179, -41],
          [181, -41],
          [181, -40],
          [179, -40],
          [179, -41],
        ],
      ],
    };
    geo.setCustomZones([row('z-dateline', across)]);
    expect(
      geo
        .zones()
        .zonesAt({ lat: -40.5, lon: 179.5 })
        .map((z) => z.id),
    ).toEqual(['z-dateline']);
    expect(
      geo
        .zones()
        .zonesAt({ lat: -40.5, lon: -179.5 })
        .map((z) => z.id),
    ).toEqual(['z-dateline']);
  });
});
