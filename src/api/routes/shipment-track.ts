// GET /v1/shipments/{id}/track: planned route, corridor, actual track and alert points, as GeoJSON or GPX.
import { listAlerts } from '../../db/alerts.ts';
import type { Pool } from '../../db/pool.ts';
import { shipmentTrack } from '../../db/queries.ts';
import { getShipment } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import type { CorridorCache } from '../corridor-cache.ts';
import { toGpx } from '../gpx.ts';
import { createRouter, defineRoute, z } from '../openapi.ts';
import { MAX_PAGE } from '../pagination.ts';
import { pathId } from '../schemas.ts';
import { alertPoints, trackFeatureCollection } from '../track-view.ts';

const featureCollection = z
  .object({
    type: z.string().openapi({ example: 'FeatureCollection' }),
    features: z.array(
      z.object({
        type: z.string().openapi({ example: 'Feature' }),
        geometry: z.unknown(),
        properties: z.record(z.string(), z.unknown()).openapi({
          description:
            'kind: plannedRoute, corridor, actualTrack (with times) or alert (with alertId, type, severity)',
        }),
      }),
    ),
  })
  .openapi('Track');

/** A track is for display: thin it evenly beyond this. */
const TRACK_MAX_POINTS = 5000;

export function shipmentTrackRouter(db: Pool, corridors: CorridorCache) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/track',
      roles: ['logistics', 'compliance'],
      summary: 'Planned route, corridor, actual track and alert points',
      description:
        'GeoJSON FeatureCollection (default), or GPX 1.1 with `format=gpx`: alert points as `<wpt>`, the planned route as one `<rte>` per leg, the actual track (at most 5,000 points, evenly thinned) as a `<trk>` with times. The corridor polygon (`corridorKm` either side of the route) was built when the shipment was registered or its width last changed, and is read as stored.',
      request: {
        params: pathId('shp-001'),
        query: z.object({
          format: z
            .enum(['geojson', 'gpx'])
            .default('geojson')
            .openapi({ description: 'geojson (application/json) or gpx (application/gpx+xml)' }),
        }),
      },
      responses: {
        200: {
          description: 'the track',
          content: {
            'application/json': { schema: featureCollection },
            'application/gpx+xml': { schema: z.string().openapi({ description: 'GPX 1.1 document' }) },
          },
        },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const s = await getShipment(db, id);
      if (!s) throw new AppError('NOT_FOUND', `no shipment ${id}`);
      const track = await shipmentTrack(db, s.id, TRACK_MAX_POINTS);
      const alerts = alertPoints(await listAlerts(db, { shipmentId: s.id, limit: MAX_PAGE }));
      if (c.req.valid('query').format === 'gpx') {
        const gpx = toGpx({
          name: s.id,
          description: s.reference,
          generatedAt: new Date().toISOString(),
          route: s.route,
          track,
          alerts,
        });
        return c.body(gpx, 200, {
          'Content-Type': 'application/gpx+xml; charset=utf-8',
          'Content-Disposition': `attachment; filename="${s.id}.gpx"`,
        });
      }
      return c.json(trackFeatureCollection(s, await corridors.of(s), track, alerts), 200);
    },
  );
  return r;
}
