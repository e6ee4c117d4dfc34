// /v1/shipments: register a shipment with its route (given, or computed for sea and air), list them, read one with
// its open alerts, and its positions. Its policy (PATCH, GET /{id}/policy) is routes/shipment-policy.ts, the track
// routes/shipment-track.ts, the evidence routes/evidence.ts. Logistics registers against the policy as it stands:
// a weakening field is refused with 403 naming it (api/policy-guard.ts).

import { zoneFilters } from '../../checks/context.ts';
import { restrictedCrossings } from '../../checks/crossings.ts';
import { defaultDestinationRadiusKm } from '../../checks/params.ts';
import type { ShipmentRecord } from '../../checks/shipment.ts';
import { listAlerts } from '../../db/alerts.ts';
import { citeLicences } from '../../db/licences.ts';
import { type Pool, type PoolClient, withTransaction } from '../../db/pool.ts';
import { getShipment, insertShipment, listShipments } from '../../db/shipments.ts';
import { getSite } from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import { buildPlannedRoute } from '../../geo/routes.ts';
import type { PlannedRoute } from '../../geo/types.ts';
import type { CorridorCache } from '../corridor-cache.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { auditRegistration, guardPolicy, type PolicyDeps } from '../policy-guard.ts';
import { listOf, pathId } from '../schemas.ts';
import { mode, shipmentBody, shipmentSchema, shipmentStatus, shipmentView } from '../shipment-view.ts';
import { alertSchema } from './alerts.ts';
import { positionList, positionsPage, positionsQuery } from './shared.ts';
import { shipmentPolicyRouter } from './shipment-policy.ts';

const routeWarningsSchema = z
  .array(
    z.object({
      country: z.string().nullable(),
      zone: z.string(),
      tier: z.string(),
      fromKm: z.number(),
      toKm: z.number(),
      legMode: z.string(),
    }),
  )
  .openapi({
    description: 'restricted or licence-required territory the planned route crosses, in route order',
  });

/**
 * The restricted or licence-required territory the planned route crosses, once, at registration and on the
 * shipment: an aircraft over it at cruise is lawful overflight, but the officer should know before departure.
 */
function routeWarnings(deps: PolicyDeps, s: ShipmentRecord) {
  const licensed = [...s.licenses.map((l) => l.country), ...(s.licensedCountries ?? [])];
  const filters = zoneFilters(deps.geo.policy, s.restrictedCountries, licensed);
  return restrictedCrossings(s.route, deps.geo.zones(), filters).map((x) => ({
    country: x.country,
    zone: x.zoneName,
    tier: x.tier,
    fromKm: Math.round(x.fromKm),
    toKm: Math.round(x.toKm),
    legMode: x.legMode,
  }));
}

/** A registered site as destination becomes its place (location and radius) with the site id kept. */
async function resolveDestination(
  db: Pool,
  d: { siteId: string } | { name?: string; lat: number; lon: number; radiusKm?: number | undefined },
  mode: 'sea' | 'air' | 'road',
) {
  if (!('siteId' in d)) return { ...d, radiusKm: d.radiusKm ?? defaultDestinationRadiusKm(mode) };
  const site = await getSite(db, d.siteId);
  if (!site)
    throw new AppError(
      'VALIDATION_FAILED',
      `destination.siteId: no site ${d.siteId} (register it with POST /v1/sites)`,
    );
  return { siteId: site.id, name: site.name, lat: site.lat, lon: site.lon, radiusKm: site.radiusKm };
}

/** The planned route: the given one, or computed; a route that cannot be built is the request's fault. */
function plannedRoute(
  b: z.infer<typeof shipmentBody>,
  destination: { lat: number; lon: number },
): PlannedRoute {
  if (b.mode === 'road' && !b.route)
    throw new AppError('VALIDATION_FAILED', 'route: a road shipment needs its route');
  try {
    return buildPlannedRoute({ mode: b.mode, origin: b.origin, destination, route: b.route });
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('VALIDATION_FAILED', `route: ${(e as Error).message}`);
  }
}

const registerRoute = defineRoute({
  method: 'post',
  path: '/',
  roles: ['logistics'],
  summary: 'Register a shipment',
  description:
    'A route left out is computed: along shipping lanes for `sea`, the great circle for `air`; `road` needs its route. From a logistics token, a field that would weaken a check (restrictedCountries leaving out a policy-restricted code, a licence not granted for the destination, free-text licenses, a wider corridor or a looser threshold than the global policy) is refused with 403 FORBIDDEN naming the field; compliance may weaken it afterwards (PATCH), audited.',
  request: {
    body: {
      content: { 'application/json': { schema: shipmentBody.openapi('ShipmentRegistration') } },
      required: true,
    },
  },
  responses: {
    201: json(shipmentSchema.extend({ routeWarnings: routeWarningsSchema }), 'registered; Location names it'),
    403: errorResponse(
      'FORBIDDEN: the role may not register shipments, or (logistics) a field would weaken a check; the message names it',
    ),
    409: errorResponse('CONFLICT: the id exists, or the tracker already rides with an active shipment'),
  },
});

const idParams = pathId('shp-001');

export function shipmentsRouter(db: Pool, deps: PolicyDeps, corridors: CorridorCache) {
  const r = createRouter();

  r.openapi(registerRoute, async (c) => {
    const b = c.req.valid('json');
    const who = c.get('principal');
    const destination = await resolveDestination(db, b.destination, b.mode);
    const licenceIds = [...new Set(b.licenceIds)].sort();
    const fields = {
      restrictedCountries: b.restrictedCountries ?? null,
      corridorKm: b.corridorKm,
      params: b.params,
      licenses: b.licenses,
    };
    const { weakens } = await guardPolicy(db, deps, who, {
      mode: b.mode,
      next: fields,
      reportIntervalS: b.reportIntervalS,
      addedLicenceIds: licenceIds,
      destination,
      places: [
        { field: 'origin.radiusKm', radiusKm: b.origin.radiusKm },
        ...('siteId' in b.destination
          ? []
          : [{ field: 'destination.radiusKm', radiusKm: destination.radiusKm }]),
        ...b.plannedStops.map((p, i) => ({ field: `plannedStops.${i}.radiusKm`, radiusKm: p.radiusKm })),
      ],
    });
    const route = plannedRoute(b, destination);
    const register = async (tx: PoolClient) => {
      const outcome = await insertShipment(
        tx,
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
        who.sub,
      );
      // Thrown inside the transaction, so nothing of the registration (audit included) is kept.
      if (outcome === 'id_taken') throw new AppError('CONFLICT', `shipment ${b.id} exists`);
      if (outcome === 'device_busy')
        throw new AppError('CONFLICT', `device ${b.deviceId} already rides with an active shipment`);
      await citeLicences(tx, b.id, licenceIds, who.sub);
      await auditRegistration(tx, deps, who, b.id, b.mode, fields, licenceIds, weakens);
    };
    await withTransaction(db, register).catch((e: { code?: string }) => {
      if (e.code === '23503')
        throw new AppError('VALIDATION_FAILED', `deviceId: no registered device ${b.deviceId}`);
      throw e;
    });
    const s = (await getShipment(db, b.id))!;
    // Built on a worker thread and stored now, so a track never builds it (nor blocks other requests meanwhile).
    await corridors.prepare(s);
    return c.json({ ...shipmentView(s), routeWarnings: routeWarnings(deps, s) }, 201, {
      Location: `/v1/shipments/${b.id}`,
    });
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
            status: shipmentStatus.optional(),
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
        page(rows, q.limit, shipmentView, (x) => (q.sort === 'id' ? [x.id] : [x.createdAt, x.id])),
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
        200: json(
          shipmentSchema.extend({ routeWarnings: routeWarningsSchema, openAlerts: z.array(alertSchema) }),
          'the shipment',
        ),
      },
    }),
    async (c) => {
      const s = await load(c.req.valid('param').id);
      const open = [
        ...(await listAlerts(db, { shipmentId: s.id, status: 'open', limit: 100 })),
        ...(await listAlerts(db, { shipmentId: s.id, status: 'acknowledged', limit: 100 })),
      ];
      return c.json({ ...shipmentView(s), routeWarnings: routeWarnings(deps, s), openAlerts: open }, 200);
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

  r.route('/', shipmentPolicyRouter(db, deps, load, corridors));
  return r;
}
