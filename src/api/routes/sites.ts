// /v1/sites: the data-center registry (registration with its MQTT credential, rotation, revocation), and a site's
// status with the region its latest RTTs allow.

import { siteParamsSchema } from '../../checks/site-params.ts';
import { listAlerts } from '../../db/alerts.ts';
import { kidTaken } from '../../db/devices.ts';
import { landmarksById } from '../../db/landmarks.ts';
import type { Pool } from '../../db/pool.ts';
import { getSite, insertSite, listAttestations, listSites, type SiteRow, siteKeys } from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import {
  cursorParam,
  decodeCursor,
  limitParam,
  MAX_PAGE,
  page,
  rangeParams,
  resolveRange,
} from '../pagination.ts';
import {
  firstSeqField,
  idSchema,
  iso2,
  lat,
  listOf,
  lon,
  pathId,
  point,
  publicJwk,
  time,
} from '../schemas.ts';
import { measuredLandmarkIds, siteRegion, siteSummary } from '../site-view.ts';
import { issueCredential, mqttCredentialFields, type SenderDeps } from './mqtt-credentials.ts';
import { siteAccessRoutes } from './site-access.ts';

export const siteBody = z
  .object({
    id: idSchema,
    name: z.string().min(1).max(200),
    endUser: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(500).default(5),
    country: iso2.optional(),
    params: siteParamsSchema.default({}),
    publicKeyJwk: publicJwk,
    firstSeq: firstSeqField,
  })
  .openapi('SiteRegistration');

const alertSummary = z.object({
  id: z.string(),
  type: z.string(),
  severity: z.string(),
  status: z.string(),
  openedAt: time,
  lastSeenAt: time,
  count: z.number(),
  details: z.record(z.string(), z.unknown()),
});
const siteSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    endUser: z.string().nullable(),
    lat: z.number(),
    lon: z.number(),
    radiusKm: z.number(),
    country: z.string().nullable(),
    params: z.record(z.string(), z.number()),
    status: z.enum(['never_attested', 'active', 'silent', 'revoked']),
    createdAt: time,
    lastAttestation: z
      .object({ at: time, seq: z.number().nullable(), location: point.nullable(), landmarks: z.unknown() })
      .nullable(),
    chipsAttested: z.number(),
  })
  .openapi('Site');
const attestationSchema = z
  .object({
    ts: time,
    seq: z.number(),
    location: point,
    chips: z.array(z.string()),
    landmarks: z.array(z.object({ landmarkId: z.string(), rttMs: z.number() })),
    receivedAt: time,
    flags: z
      .array(z.string())
      .openapi({ description: 'LOCATION_MISMATCH, RTT_IMPLAUSIBLE, UNKNOWN_LANDMARK' }),
  })
  .openapi('Attestation');
const siteDetailSchema = siteSchema
  .extend({
    keys: z.array(
      z.object({
        kid: z.string(),
        alg: z.string(),
        publicJwk: z.unknown(),
        createdAt: time,
        revokedAt: time.nullable(),
      }),
    ),
    chips: z.array(z.string()).openapi({ description: 'serials in the latest attestation' }),
    feasibleRegion: z
      .object({
        kind: z.enum(['region', 'unbounded', 'empty']),
        disks: z.array(
          z.object({ landmarkId: z.string(), lat: z.number(), lon: z.number(), radiusKm: z.number() }),
        ),
        geometry: z.unknown().openapi({ description: 'GeoJSON Polygon, or null unless kind is region' }),
        note: z.string().optional(),
        restrictedZonesTouched: z.array(z.object({ id: z.string(), name: z.string(), tier: z.string() })),
        intersectsRestricted: z.boolean(),
        bound: z.string(),
      })
      .nullable()
      .openapi({
        description: 'where the latest RTTs allow the site to be (null before the first attestation)',
      }),
    recentAttestations: z.array(attestationSchema),
    openAlerts: z.array(alertSummary),
  })
  .openapi('SiteDetail');
const siteParam = pathId('dc-ams-01');
const siteRegisteredSchema = siteSchema.extend(mqttCredentialFields).openapi('SiteRegistered');

export function sitesRouter(db: Pool, geo: GeoRuntime, deps: SenderDeps) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register a data center',
      description:
        'Its key signs its attestations; `country` is derived from the point when left out. The answer carries the MQTT credential (user name = the id, `mqttPassword`, shown this once) and the ack key to pin.',
      request: { body: { content: { 'application/json': { schema: siteBody } }, required: true } },
      responses: {
        201: json(siteRegisteredSchema, 'registered'),
        409: errorResponse('CONFLICT: the id or the kid exists'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const jwk = normalizePublicJwk(b.publicKeyJwk);
      const country = b.country ?? geo.zones().countryAt(b) ?? null;
      const ok = await insertSite(
        db,
        {
          id: b.id,
          name: b.name,
          endUser: b.endUser ?? null,
          lat: b.lat,
          lon: b.lon,
          radiusKm: b.radiusKm,
          country,
          params: b.params,
          jwk,
          ...(b.firstSeq === undefined ? {} : { firstSeq: b.firstSeq }),
        },
        c.get('principal').sub,
      );
      if (!ok) {
        const what = (await kidTaken(db, jwk.kid)) ? `key id ${jwk.kid}` : `site ${b.id}`;
        throw new AppError('CONFLICT', `${what} is already registered`);
      }
      const credential = await issueCredential(db, deps, 'site', b.id, c.get('principal').sub);
      c.header('Location', `/v1/sites/${b.id}`);
      return c.json({ ...siteSummary((await getSite(db, b.id))!), ...credential! }, 201);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'List data centers',
      description: 'In id order.',
      request: { query: z.object({ limit: limitParam(MAX_PAGE, 100), cursor: cursorParam }) },
      responses: { 200: json(listOf(siteSchema, 'SiteList'), 'a page of sites') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, ['string'])?.[0] as string | undefined;
      const items = await listSites(db, q.limit, after);
      return c.json(
        page(items, q.limit, siteSummary, (s) => [s.id]),
        200,
      );
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: ['compliance'],
      summary: 'A data center: status, chips attested now, feasible region, open alerts',
      description:
        'The feasible region is the intersection of the disks (landmark, RTT × 299.79 km/ms ÷ 2) of the latest attestation, with the restricted zones it touches (information, not an alert).',
      request: { params: siteParam },
      responses: { 200: json(siteDetailSchema, 'the site') },
    }),
    async (c) => {
      const site = await getSite(db, c.req.valid('param').id);
      if (!site) throw new AppError('NOT_FOUND', `no site ${c.req.valid('param').id}`);
      return c.json(await siteDetail(db, geo, site), 200);
    },
  );

  siteAccessRoutes(r, db, deps, siteSchema);

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/attestations',
      roles: ['compliance'],
      summary: "A data center's attestations, newest first",
      request: {
        params: siteParam,
        query: z.object({ ...rangeParams, limit: limitParam(MAX_PAGE, 100), cursor: cursorParam }),
      },
      responses: { 200: json(listOf(attestationSchema, 'AttestationList'), 'a page of attestations') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      if (!(await getSite(db, id))) throw new AppError('NOT_FOUND', `no site ${id}`);
      const range = resolveRange(q, Date.now());
      const before = decodeCursor(q.cursor, ['number', 'number']) as [number, number] | undefined;
      const items = await listAttestations(db, id, q.limit, { ...range, before });
      return c.json(
        page(
          items,
          q.limit,
          (a) => a,
          (a) => [Date.parse(a.ts), a.seq],
        ),
        200,
      );
    },
  );

  return r;
}

/** The site with its keys, the chips it attests now, its feasible region, recent attestations and open alerts. */
async function siteDetail(db: Pool, geo: GeoRuntime, site: SiteRow) {
  const landmarks = await landmarksById(db, measuredLandmarkIds(site));
  const open = (await listAlerts(db, { siteId: site.id, limit: 500 })).filter((a) => a.status !== 'resolved');
  return {
    ...siteSummary(site),
    keys: await siteKeys(db, site.id),
    chips: site.lastChips ?? [],
    feasibleRegion: siteRegion(site, landmarks, geo.zones()),
    recentAttestations: await listAttestations(db, site.id, 20),
    openAlerts: open.slice(0, 100),
  };
}
