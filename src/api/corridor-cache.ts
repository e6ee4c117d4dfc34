// A shipment's corridor polygon for GET …/track. Built once, on a worker thread (geo/corridor-builder.ts), never on
// the event loop: when the shipment is registered and when its corridor width changes (`prepare`), then stored on
// the shipment (db/corridors.ts). A track reads the stored one (`of`), keeping the recent ones in memory; one
// registered before corridors were stored, or whose build failed, has its corridor built on first use and stored.
// One cache per app, made in createApp and passed to the routers that register shipments and draw tracks.
import type { ShipmentRecord } from '../checks/shipment.ts';
import { getStoredCorridor, storeCorridor } from '../db/corridors.ts';
import type { Pool } from '../db/pool.ts';
import { type Corridor, CorridorBuilder } from '../geo/corridor-builder.ts';

type CorridorShipment = Pick<ShipmentRecord, 'id' | 'route' | 'corridorKm'>;

export interface CorridorCache {
  /**
   * Builds the shipment's corridor off the event loop and stores it: at registration, and when its width changes.
   * Never fails: a corridor that could not be built is logged and built again on first use.
   */
  prepare(s: CorridorShipment): Promise<void>;
  /** The shipment's corridor: from memory, else as stored, else built (off the event loop) and stored. */
  of(s: CorridorShipment): Promise<Corridor>;
  size(): number;
}

/** Keeps up to `maxEntries` corridors in memory, dropping the oldest first. */
export function createCorridorCache(
  db: Pool,
  opts: {
    maxEntries?: number;
    builder?: CorridorBuilder;
    log?: { warn(obj: object, msg: string): void };
  } = {},
): CorridorCache {
  const maxEntries = opts.maxEntries ?? 200;
  const builder = opts.builder ?? new CorridorBuilder();
  const corridors = new Map<string, Corridor>();
  /** Builds in flight, by key: two requests for one corridor share one build. */
  const building = new Map<string, Promise<Corridor>>();
  const keyOf = (s: CorridorShipment) => `${s.id}:${s.corridorKm}`;

  const remember = (key: string, c: Corridor) => {
    corridors.delete(key);
    if (corridors.size >= maxEntries) corridors.delete(corridors.keys().next().value!);
    corridors.set(key, c);
  };

  const buildAndStore = (s: CorridorShipment): Promise<Corridor> => {
    const key = keyOf(s);
    let p = building.get(key);
    if (!p) {
      p = (async () => {
        const c = await builder.build(s.route, s.corridorKm);
        await storeCorridor(db, s.id, s.corridorKm, c);
        return c;
      })().finally(() => building.delete(key));
      building.set(key, p);
    }
    return p;
  };

  return {
    async prepare(s) {
      try {
        await buildAndStore(s);
      } catch (e) {
        opts.log?.warn({ err: e, shipmentId: s.id }, 'corridor not built: it is built again on first use');
      }
    },
    async of(s) {
      const key = keyOf(s);
      const held = corridors.get(key);
      if (held) return held;
      const c = (await getStoredCorridor(db, s.id, s.corridorKm)) ?? (await buildAndStore(s));
      remember(key, c);
      return c;
    },
    size: () => corridors.size,
  };
}
