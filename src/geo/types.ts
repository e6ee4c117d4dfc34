// Shared geographic types: zones (countries and custom polygons with a policy tier) and planned routes.
import type { MultiPolygon, Polygon } from 'geojson';

export interface LatLon {
  lat: number;
  lon: number;
}

/** A GeoJSON position: [lon, lat]. */
export type Position = [number, number];

export type ZoneTier = 'restricted' | 'licenseRequired' | 'watch' | 'none';

export interface Zone {
  /** ISO 3166-1 alpha-2 for a country (or a name key such as `XK-Kosovo` for entities without a code); the id for a custom zone. */
  id: string;
  name: string;
  kind: 'country' | 'custom';
  /** The tier from the policy file (countries) or the zone's own (custom). */
  tier: ZoneTier;
  /** ISO alpha-2 of the country (countries), or of the country a custom zone lies in when known. */
  country?: string;
}

export interface ZoneInput {
  zone: Zone;
  geometry: Polygon | MultiPolygon;
}

/** A custom zone as stored (the zones table); geometry may cross ±180, the runtime cuts it there. */
export interface CustomZoneRow {
  id: string;
  name: string;
  tier: ZoneTier;
  country: string | null;
  geometry: Polygon | MultiPolygon;
  createdAt: Date;
}

export type ZoneFilter = (zone: Zone) => boolean;

/**
 * A lon/lat box no border of a zone of some filter reaches (see zone-clear.ts): the whole box lies in the same such
 * zones (usually none). Small enough to keep in a check state.
 */
export interface ClearBox {
  /** minLon, minLat, maxLon, maxLat. */
  box: [number, number, number, number];
  /** Ids of the zones the filter let through whose rings come near the box. */
  allowed: string[];
  /** Ids of the zones of the filter the whole box lies in, in the order zonesAt gives them; absent when none. */
  inside?: string[];
  /** The zone index it was found in (its fingerprint): another index, another answer. */
  index: string;
}

export interface ZoneIndex {
  /** Every zone containing the point (passing `filter`, when given: cheaper than filtering after). */
  zonesAt(p: LatLon, filter?: ZoneFilter): Zone[];
  /** ISO alpha-2 of the country containing the point, undefined at sea. */
  countryAt(p: LatLon): string | undefined;
  /** Zones passing `filter` that the great-circle segment a→b enters (ends included). */
  zonesCrossed(a: LatLon, b: LatLon, filter: ZoneFilter): Zone[];
  /** The nearest zone passing `filter` within `maxKm` and the distance to its boundary (0 when inside). */
  nearest(p: LatLon, filter: ZoneFilter, maxKm: number): { zone: Zone; distanceKm: number } | undefined;
  /** A box around p, half-size halfKm or less (halved down to minHalfKm), no border of a zone passing `filter` meets. */
  clearBox(p: LatLon, filter: ZoneFilter, halfKm: number, minHalfKm: number): ClearBox | undefined;
  /** Whether a box found earlier still holds for `filter`: same index, no zone near it passes now, those it lies in do. */
  stillClear(box: ClearBox, filter: ZoneFilter): boolean;
  /** The zone with this id. */
  zone(id: string): Zone | undefined;
  /** Changes whenever the zones (or their tiers) change. */
  readonly fingerprint: string;
}

export type TransportMode = 'sea' | 'air' | 'road';

export interface RouteLeg {
  mode: TransportMode;
  /** [lon, lat] positions; a leg crossing the antimeridian is stored unwrapped (lon may pass ±180). */
  coordinates: Position[];
}

export interface PlannedRoute {
  legs: RouteLeg[];
  lengthKm: number;
}

export interface RouteFix {
  /** Great-circle distance from the point to the nearest point of the route. */
  crossTrackKm: number;
  /** Distance along the route (all legs) to that nearest point. */
  alongKm: number;
  legIndex: number;
  /** Bearing of the route at that point, degrees clockwise from north. */
  routeBearingDeg: number;
}

export interface RouteIndex {
  route: PlannedRoute;
  locate(p: LatLon): RouteFix;
}
