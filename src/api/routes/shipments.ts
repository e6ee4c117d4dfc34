// /v1/shipments: register a shipment with its route (given, or computed for sea and air), read its status,
// positions and track.

import { checkParamsSchema } from '../../checks/params.ts';
import { listAlerts } from '../../db/alerts.ts';
import type { Pool } from '../../db/pool.ts';
import { shipmentTrack } from '../../db/queries.ts';
import { getShipment, insertShipment, listShipments, type ShipmentRecord } from '../../db/shipments.ts';
import { getSite } from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import { ID_PATTERN, ID_RULE } from '../../domain/ids.ts';
import { buildPlannedRoute, corridorPolygon, routeToGeoJSON } from '../../geo/routes.ts';
import type { PlannedRoute } from '../../geo/types.ts';
import { type GpxAlertPoint, toGpx } from '../gpx.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { alertSchema } from './alerts.ts';
import { listOf, positionList, positionsPage, positionsQuery } from './shared.ts';

const id = z.string().regex(ID_PATTERN, ID_RULE);
const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);
const iso2 = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. CN');
const place = (radiusKm: number) =>
  z.object({
    name: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(2000).default(radiusKm),
  });
const position = z.tuple([z.number(), z.number()]);
const mode = z.enum(['sea', 'air', 'road']);

const shipmentBody = z.object({
  id,
  reference: z.string().max(200).optional(),
  customer: z.string().min(1).max(200).optional(),
  deviceId: id,
  mode,
  origin: place(25),
  destination: z.union([place(25), z.object({ siteId: id })]),
  route: z
    .union([
      z.object({ type: z.literal('LineString'), coordinates: z.array(position).min(2) }),
      z.object({ type: z.literal('MultiLineString'), coordinates: z.array(z.array(position).min(2)).min(1) }),
      z.object({ legs: z.array(z.object({ mode, coordinates: z.array(position).min(2) })).min(1) }),
    ])
    .optional(),
  corridorKm: z.number().positive().max(2000).default(50),
  reportIntervalS: z.number().int().min(1).max(86_400).default(300),
  chips: z.array(z.string().min(1).max(128)).max(100_000).default([]),
  restrictedCountries: z.array(iso2).optional(),
  licenses: z.array(z.object({ country: iso2, number: z.string().min(1).max(200) })).default([]),
  plannedStops: z.array(place(25)).max(100).default([]),
  params: checkParamsSchema.default({}),
});

function view(s: ShipmentRecord) {
  return {
    id: s.id,
    reference: s.reference,
    customer: s.customer ?? null,
    deviceId: s.deviceId,
    mode: s.mode,
    status: s.status,
    origin: s.origin,
    destination: s.destination,
    corridorKm: s.corridorKm,
    reportIntervalS: s.reportIntervalS,
    chips: s.chips,
    restrictedCountries: s.restrictedCountries,
    licenses: s.licenses,
    plannedStops: s.plannedStops,
    params: s.params,
    routeLengthKm: Math.round(s.route.lengthKm * 10) / 10,
    lastPosition: s.lastFix,
    progress:
      s.progressKm === null
        ? null
        : {
            km: Math.round(s.progressKm * 10) / 10,
            percent: Math.min(100, Math.round((s.progressKm / Math.max(s.route.lengthKm, 1e-9)) * 1000) / 10),
          },
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    arrivedAt: s.arrivedAt,
    installedAt: s.installedAt,
  };
}

/** Buffering a long route takes ~0.1–0.3 s and a route never changes: keep recent corridors. */
const corridors = new Map<string, ReturnType<typeof corridorPolygon>>();
function corridorOf(s: ShipmentRecord) {
  const key = `${s.id}:${s.corridorKm}`;
  let c = corridors.get(key);
  if (!c) {
    c = corridorPolygon(s.route, s.corridorKm);
    if (corridors.size >= 200) corridors.delete(corridors.keys().next().value!);
    corridors.set(key, c);
  }
  return c;
}

/** A registered site as destination becomes its place (location and radius) with the site id kept. */
async function resolveDestination(
  db: Pool,
  d: { siteId: string } | { name?: string; lat: number; lon: number; radiusKm: number },
) {
  if (!('siteId' in d)) return d;
  const site = await getSite(db, d.siteId);
  if (!site)
    throw new AppError(
      'VALIDATION_FAILED',
      `destination.siteId: no site ${d.siteId} (register it with POST /v1/sites)`,
    );
  return { siteId: site.id, name: site.name, lat: site.lat, lon: site.lon, radiusKm: site.radiusKm };
}

const time = z.string().openapi({ format: 'date-time' });
const placeSchema = z.object({
  name: z.string().optional(),
  lat: z.number(),
  lon: z.number(),
  radiusKm: z.number(),
  siteId: z.string().optional(),
});
export const shipmentSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable(),
    customer: z.string().nullable().openapi({
      description: 'who the shipment is for: channels filtered by `customers` hear of its alerts',
    }),
    deviceId: z.string(),
    mode,
    status: z.enum(['planned', 'in_transit', 'arrived', 'installed', 'cancelled']),
    origin: placeSchema,
    destination: placeSchema,
    corridorKm: z.number(),
    reportIntervalS: z.number(),
    chips: z.array(z.string()),
    restrictedCountries: z.array(z.string()).nullable(),
    licenses: z.array(z.object({ country: z.string(), number: z.string() })),
    plannedStops: z.array(placeSchema),
    params: z.record(z.string(), z.unknown()),
    routeLengthKm: z.number(),
    lastPosition: z.object({ ts: time, lat: z.number(), lon: z.number() }).nullable(),
    progress: z
      .object({ km: z.number(), percent: z.number() })
      .nullable()
      .openapi({ description: 'along the planned route, from the last fix' }),
    createdAt: time,
    startedAt: time.nullable(),
    arrivedAt: time.nullable(),
    installedAt: time
      .nullable()
      .openapi({ description: 'when every chip was attested at the destination site' }),
  })
  .openapi('Shipment');

const registerRoute = defineRoute({
  method: 'post',
  path: '/',
  roles: ['logistics'],
  summary: 'Register a shipment',
  description:
    'A route left out is computed: along shipping lanes for `sea`, the great circle for `air`; `road` needs its route.',
  request: {
    body: {
      content: { 'application/json': { schema: shipmentBody.openapi('ShipmentRegistration') } },
      required: true,
    },
  },
  responses: {
    201: json(shipmentSchema, 'registered; Location names it'),
    409: errorResponse('CONFLICT: the id exists, or the tracker already rides with an active shipment'),
  },
});

const idParams = z.object({ id: z.string().max(128).openapi({ example: 'shp-001' }) });

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

export function shipmentsRouter(db: Pool) {
  const r = createRouter();

  r.openapi(registerRoute, async (c) => {
    const b = c.req.valid('json');
    const destination = await resolveDestination(db, b.destination);
    if (b.mode === 'road' && !b.route)
      throw new AppError('VALIDATION_FAILED', 'route: a road shipment needs its route');
    let route: PlannedRoute;
    try {
      route = buildPlannedRoute({ mode: b.mode, origin: b.origin, destination, route: b.route });
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('VALIDATION_FAILED', `route: ${(e as Error).message}`);
    }
    const outcome = await insertShipment(
      db,
      {
        id: b.id,
        reference: b.reference ?? null,
        customer: b.customer ?? null,
        deviceId: b.deviceId,
        mode: b.mode,
        origin: b.origin,
        destination,
        route,
        corridorKm: b.corridorKm,
        reportIntervalS: b.reportIntervalS,
        chips: b.chips,
        restrictedCountries: b.restrictedCountries ?? null,
        licenses: b.licenses,
        plannedStops: b.plannedStops,
        params: b.params,
      },
      c.get('principal').sub,
    ).catch((e: { code?: string }) => {
      if (e.code === '23503')
        throw new AppError('VALIDATION_FAILED', `deviceId: no registered device ${b.deviceId}`);
      throw e;
    });
    if (outcome === 'id_taken') throw new AppError('CONFLICT', `shipment ${b.id} exists`);
    if (outcome === 'device_busy')
      throw new AppError('CONFLICT', `device ${b.deviceId} already rides with an active shipment`);
    return c.json(view((await getShipment(db, b.id))!), 201, { Location: `/v1/shipments/${b.id}` });
  });

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'List shipments',
      description: '`sort=id` (default) in id order, `sort=newest` newest first; filters combine.',
      request: {
        query: z
          .object({
            status: z.enum(['planned', 'in_transit', 'arrived', 'installed', 'cancelled']).optional(),
            deviceId: z.string().max(128).optional(),
            mode,
            customer: z.string().max(200).optional(),
            sort: z.enum(['id', 'newest']).default('id'),
            limit: limitParam(MAX_PAGE, 100),
            cursor: cursorParam,
          })
          .partial({ mode: true }),
      },
      responses: { 200: json(listOf(shipmentSchema, 'ShipmentList'), 'a page of shipments') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, q.sort === 'id' ? ['string'] : ['time', 'string']) as
        | [string]
        | [string, string]
        | undefined;
      const rows = await listShipments(db, { ...q, after });
      return c.json(
        page(rows, q.limit, view, (x) => (q.sort === 'id' ? [x.id] : [x.createdAt, x.id])),
        200,
      );
    },
  );

  const load = async (shipmentId: string) => {
    const s = await getShipment(db, shipmentId);
    if (!s) throw new AppError('NOT_FOUND', `no shipment ${shipmentId}`);
    return s;
  };

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: ['logistics', 'compliance'],
      summary: 'One shipment: status, last position, progress, open alerts',
      request: { params: idParams },
      responses: {
        200: json(shipmentSchema.extend({ openAlerts: z.array(alertSchema) }), 'the shipment'),
      },
    }),
    async (c) => {
      const s = await load(c.req.valid('param').id);
      const open = [
        ...(await listAlerts(db, { shipmentId: s.id, status: 'open', limit: 100 })),
        ...(await listAlerts(db, { shipmentId: s.id, status: 'acknowledged', limit: 100 })),
      ];
      return c.json({ ...view(s), openAlerts: open }, 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/positions',
      roles: ['logistics', 'compliance'],
      summary: "A shipment's fixes in time order, with flags",
      description:
        'From `from` (inclusive) to `to` (exclusive), at most 31 days per request; without either, the last 31 days.',
      request: { params: idParams, query: positionsQuery },
      responses: { 200: json(positionList, 'a page of fixes') },
    }),
    async (c) => {
      const s = await load(c.req.valid('param').id);
      return c.json(await positionsPage(db, { shipmentId: s.id }, c.req.valid('query')), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/track',
      roles: ['logistics', 'compliance'],
      summary: 'Planned route, corridor, actual track and alert points',
      description:
        'GeoJSON FeatureCollection (default), or GPX 1.1 with `format=gpx`: alert points as `<wpt>`, the planned route as one `<rte>` per leg, the actual track (at most 5,000 points, evenly thinned) as a `<trk>` with times.',
      request: {
        params: idParams,
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
      const s = await load(c.req.valid('param').id);
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
      return c.json(
        {
          type: 'FeatureCollection',
          features: [
            {
              type: 'Feature',
              geometry: routeToGeoJSON(s.route),
              properties: { kind: 'plannedRoute', lengthKm: s.route.lengthKm },
            },
            {
              type: 'Feature',
              geometry: corridorOf(s),
              properties: { kind: 'corridor', corridorKm: s.corridorKm },
            },
            {
              type: 'Feature',
              // A LineString needs two positions; before that there is nothing to draw.
              geometry:
                track.length >= 2
                  ? { type: 'LineString', coordinates: track.map((p) => [p.lon, p.lat]) }
                  : null,
              properties: { kind: 'actualTrack', times: track.map((p) => p.ts), points: track.length },
            },
            ...alerts.map((a) => ({
              type: 'Feature',
              geometry: { type: 'Point', coordinates: [a.lon, a.lat] },
              properties: {
                kind: 'alert',
                alertId: a.alertId,
                type: a.type,
                severity: a.severity,
                status: a.status,
                ts: a.ts,
              },
            })),
          ],
        },
        200,
      );
    },
  );

  return r;
}

/** Where each alert happened, when its evidence names a fix. */
function alertPoints(alerts: Awaited<ReturnType<typeof listAlerts>>): GpxAlertPoint[] {
  return alerts.flatMap((a) => {
    const fix = (a.details.fix ?? a.details.after) as { lat?: number; lon?: number; ts?: string } | undefined;
    if (typeof fix?.lat !== 'number' || typeof fix.lon !== 'number') return [];
    return [
      {
        alertId: a.id,
        type: a.type,
        severity: a.severity,
        status: a.status,
        lat: fix.lat,
        lon: fix.lon,
        ts: fix.ts ?? a.lastEvidenceAt ?? undefined,
      },
    ];
  });
}
