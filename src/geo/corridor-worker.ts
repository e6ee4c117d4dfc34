// Worker thread of src/geo/corridor-builder.ts: builds corridor polygons (corridorPolygon, turf buffer and union:
// a tenth of a second to seconds for a long route) so the event loop never does. One request at a time, in order.
import { parentPort } from 'node:worker_threads';
import { corridorPolygon } from './routes.ts';
import type { PlannedRoute } from './types.ts';

export interface CorridorRequest {
  id: number;
  route: PlannedRoute;
  corridorKm: number;
}

parentPort?.on('message', (m: CorridorRequest) => {
  try {
    parentPort!.postMessage({ id: m.id, corridor: corridorPolygon(m.route, m.corridorKm) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
