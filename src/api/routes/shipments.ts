// /v1/shipments: register a shipment with its route (given, or computed for sea and air), read its status,
// positions and track.
import { Hono } from 'hono';
import { z } from 'zod';
import { checkParamsSchema } from '../../checks/params.ts';
import { listAlerts } from '../../db/alerts.ts';
import type { Pool } from '../../db/pool.ts';
import { shipmentTrack } from '../../db/queries.ts';
import { getShipment, insertShipment, listShipments, type ShipmentRecord } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import { buildPlannedRoute, corridorPolygon, routeToGeoJSON } from '../../geo/routes.ts';
import type { PlannedRoute } from '../../geo/types.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { jsonBody, query } from '../validate.ts';
import { positionsPage } from './shared.ts';

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'ids are 1–128 of A–Z a–z 0–9 . _ : -');
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

export function shipmentsRouter(db: Pool) {
  const r = new Hono<AppEnv>();

  r.post('/', requireRole('logistics'), async (c) => {
    const b = await jsonBody(c, shipmentBody);
    if ('siteId' in b.destination) {
      throw new AppError(
        'VALIDATION_FAILED',
        'destination.siteId: the site registry is not available yet; give {name, lat, lon, radiusKm}',
      );
    }
    const destination = b.destination;
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

  r.get('/', requireRole('logistics', 'compliance'), async (c) => {
    const q = query(
      c,
      z.object({
        status: z.enum(['planned', 'in_transit', 'arrived', 'installed', 'cancelled']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        cursor: z.string().optional(),
      }),
    );
    const after = decodeCursor(q.cursor, 1)?.[0] as string | undefined;
    const rows = await listShipments(db, { status: q.status, limit: q.limit, afterId: after });
    return c.json(page(rows, q.limit, view, (x) => [x.id]));
  });

  const load = async (shipmentId: string) => {
    const s = await getShipment(db, shipmentId);
    if (!s) throw new AppError('NOT_FOUND', `no shipment ${shipmentId}`);
    return s;
  };

  r.get('/:id', requireRole('logistics', 'compliance'), async (c) => {
    const s = await load(c.req.param('id'));
    const open = [
      ...(await listAlerts(db, { shipmentId: s.id, status: 'open', limit: 100 })),
      ...(await listAlerts(db, { shipmentId: s.id, status: 'acknowledged', limit: 100 })),
    ];
    return c.json({ ...view(s), openAlerts: open });
  });

  r.get('/:id/positions', requireRole('logistics', 'compliance'), async (c) => {
    const s = await load(c.req.param('id'));
    return c.json(await positionsPage(c, db, { shipmentId: s.id }));
  });

  r.get('/:id/track', requireRole('logistics', 'compliance'), async (c) => {
    const s = await load(c.req.param('id'));
    const track = await shipmentTrack(db, s.id, 5000);
    const alerts = await listAlerts(db, { shipmentId: s.id, limit: 500 });
    const alertPoints = alerts.flatMap((a) => {
      const fix = (a.details.fix ?? a.details.after) as
        | { lat?: number; lon?: number; ts?: string }
        | undefined;
      if (typeof fix?.lat !== 'number' || typeof fix.lon !== 'number') return [];
      return [
        {
          type: 'Feature' as const,
          geometry: { type: 'Point' as const, coordinates: [fix.lon, fix.lat] },
          properties: {
            kind: 'alert',
            alertId: a.id,
            type: a.type,
            severity: a.severity,
            status: a.status,
            ts: fix.ts ?? a.lastEvidenceAt,
          },
        },
      ];
    });
    return c.json({
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
            track.length >= 2 ? { type: 'LineString', coordinates: track.map((p) => [p.lon, p.lat]) } : null,
          properties: { kind: 'actualTrack', times: track.map((p) => p.ts), points: track.length },
        },
        ...alertPoints,
      ],
    });
  });

  return r;
}
