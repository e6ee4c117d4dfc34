// Buffering a long route into its corridor takes ~0.1–0.3 s and a route never changes: the API keeps the recent
// corridors. One cache per app, made in createApp and passed to the routers that draw tracks.
import type { ShipmentRecord } from '../checks/shipment.ts';
import { corridorPolygon } from '../geo/routes.ts';

export interface CorridorCache {
  /** The shipment's corridor polygon, computed on first use. */
  of(s: ShipmentRecord): ReturnType<typeof corridorPolygon>;
  size(): number;
}

/** Holds up to `maxEntries` corridors, dropping the oldest first. */
export function createCorridorCache(maxEntries = 200): CorridorCache {
  const corridors = new Map<string, ReturnType<typeof corridorPolygon>>();
  return {
    of(s) {
      const key = `${s.id}:${s.corridorKm}`;
      let c = corridors.get(key);
      if (!c) {
        c = corridorPolygon(s.route, s.corridorKm);
        if (corridors.size >= maxEntries) corridors.delete(corridors.keys().next().value!);
        corridors.set(key, c);
      }
      return c;
    },
    size: () => corridors.size,
  };
}
