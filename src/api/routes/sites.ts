// /v1/sites, /v1/landmarks, /v1/chips: the data-center registry, RTT landmarks, a site's status with the region its
// RTTs allow, and a chip's custody chain from shipment to the site where it runs.

import { feasibleRegion, rttBoundKm, samplePoints } from '../../checks/attestation.ts';
import { siteParams, siteParamsSchema } from '../../checks/site-params.ts';
import { listAlerts } from '../../db/alerts.ts';
import { kidTaken } from '../../db/devices.ts';
import type { Pool } from '../../db/pool.ts';
import {
  getSite,
  insertLandmark,
  insertSite,
  landmarksById,
  listAttestations,
  listLandmarks,
  listSites,
  type SiteRow,
  siteKeys,
} from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { createRouter, defineRoute, errorResponse, idSchema, json, z } from '../openapi.ts';
import {
  cursorParam,
  decodeCursor,
  limitParam,
  MAX_PAGE,
  page,
  rangeParams,
  resolveRange,
} from '../pagination.ts';
import { listOf } from './shared.ts';

const id = idSchema;
const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);

export const siteBody = z
  .object({
    id,
    name: z.string().min(1).max(200),
    endUser: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(500).default(5),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2')
      .optional(),
    params: siteParamsSchema.default({}),
    publicKeyJwk: z
      .unknown()
      .openapi({ description: 'public JWK (OKP Ed25519 or EC P-256) with kid and alg' }),
  })
  .openapi('SiteRegistration');

export const landmarkBody = z
  .object({
    id,
    name: z.string().max(200).optional(),
    lat,
    lon,
    publicKeyJwk: z.unknown().optional(),
  })
  .openapi('LandmarkRegistration');

const time = z.string().openapi({ format: 'date-time' });
const point = z.object({ lat: z.number(), lon: z.number() });
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
const landmarkSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    lat: z.number(),
    lon: z.number(),
    createdAt: time.optional(),
  })
  .openapi('Landmark');
const siteParam = z.object({ id: z.string().max(128).openapi({ example: 'dc-ams-01' }) });

/** A site is `active` while it attests within its silence threshold. */
function siteStatus(s: SiteRow, now: number): 'never_attested' | 'active' | 'silent' | 'revoked' {
  if (s.revokedAt) return 'revoked';
  if (!s.lastAttestedAt) return 'never_attested';
  const silentAfterMs = siteParams(s.params).siteSilentAfterS * 1000;
  return now - s.lastAttestedAt.getTime() > silentAfterMs ? 'silent' : 'active';
}

function siteSummary(s: SiteRow) {
  return {
    id: s.id,
    name: s.name,
    endUser: s.endUser,
    lat: s.lat,
    lon: s.lon,
    radiusKm: s.radiusKm,
    country: s.country,
    params: s.params,
    status: siteStatus(s, Date.now()),
    createdAt: s.createdAt.toISOString(),
    lastAttestation: s.lastAttestedAt
      ? {
          at: s.lastAttestedAt.toISOString(),
          seq: s.lastSeq,
          location: s.lastLocation,
          landmarks: s.lastLandmarks,
        }
      : null,
    chipsAttested: s.lastChips?.length ?? 0,
  };
}

export function sitesRouter(db: Pool, geo: GeoRuntime) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register a data center',
      description: 'Its key signs its attestations; `country` is derived from the point when left out.',
      request: { body: { content: { 'application/json': { schema: siteBody } }, required: true } },
      responses: {
        201: json(siteSchema, 'registered'),
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
        },
        c.get('principal').sub,
      );
      if (!ok) {
        const what = (await kidTaken(db, jwk.kid)) ? `key id ${jwk.kid}` : `site ${b.id}`;
        throw new AppError('CONFLICT', `${what} is already registered`);
      }
      c.header('Location', `/v1/sites/${b.id}`);
      return c.json(siteSummary((await getSite(db, b.id))!), 201);
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

async function siteDetail(db: Pool, geo: GeoRuntime, site: SiteRow) {
  const measured = site.lastLandmarks ?? [];
  const landmarks = await landmarksById(
    db,
    measured.map((m) => m.landmarkId),
  );
  const disks = measured.flatMap((m) => {
    const lm = landmarks.get(m.landmarkId);
    return lm ? [{ landmarkId: lm.id, lat: lm.lat, lon: lm.lon, radiusKm: rttBoundKm(m.rttMs) }] : [];
  });
  const region = site.lastAttestedAt ? feasibleRegion(disks) : null;
  const zones = geo.zones();
  const touches = new Map<string, { id: string; name: string; tier: string }>();
  if (region?.kind === 'region') {
    for (const p of samplePoints(region.polygon)) {
      for (const z of zones.zonesAt(p)) {
        if (z.tier === 'restricted' || z.tier === 'licenseRequired')
          touches.set(z.id, { id: z.id, name: z.name, tier: z.tier });
      }
    }
  }
  const open = (await listAlerts(db, { siteId: site.id, limit: 500 })).filter((a) => a.status !== 'resolved');
  return {
    ...siteSummary(site),
    keys: await siteKeys(db, site.id),
    chips: site.lastChips ?? [],
    feasibleRegion: region && {
      kind: region.kind,
      disks: disks.map((d) => ({ ...d, radiusKm: Math.round(d.radiusKm * 10) / 10 })),
      geometry: region.kind === 'region' ? region.polygon : null,
      ...('note' in region && region.note ? { note: region.note } : {}),
      restrictedZonesTouched: [...touches.values()],
      intersectsRestricted: [...touches.values()].some((z) => z.tier === 'restricted'),
      bound: 'light in vacuum: 299.79 km/ms ÷ 2 per ms of RTT',
    },
    recentAttestations: await listAttestations(db, site.id, 20),
    openAlerts: open.slice(0, 100),
  };
}

export function landmarksRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register an RTT landmark',
      description:
        'A public key may be given for landmark-signed RTT measurements (a later step); it is stored.',
      request: { body: { content: { 'application/json': { schema: landmarkBody } }, required: true } },
      responses: { 201: json(landmarkSchema, 'registered'), 409: errorResponse('CONFLICT: the id exists') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const jwk = b.publicKeyJwk === undefined ? null : normalizePublicJwk(b.publicKeyJwk);
      if (
        !(await insertLandmark(
          db,
          { id: b.id, name: b.name ?? null, lat: b.lat, lon: b.lon, jwk },
          c.get('principal').sub,
        ))
      ) {
        throw new AppError('CONFLICT', `landmark ${b.id} is already registered`);
      }
      c.header('Location', `/v1/landmarks/${b.id}`);
      return c.json({ id: b.id, name: b.name ?? null, lat: b.lat, lon: b.lon }, 201);
    },
  );
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'List RTT landmarks',
      responses: { 200: json(listOf(landmarkSchema, 'LandmarkList'), 'every landmark') },
    }),
    async (c) => c.json({ items: await listLandmarks(db), nextCursor: null }, 200),
  );
  return r;
}

const custodySchema = z
  .object({
    serial: z.string(),
    shipments: z.array(z.record(z.string(), z.unknown())),
    attestations: z.array(
      z.object({
        siteId: z.string(),
        at: time,
        seq: z.number(),
        location: point,
        flags: z.array(z.string()),
      }),
    ),
    attestationsTruncated: z.boolean(),
    sites: z
      .array(z.object({ siteId: z.string(), firstSeen: time, lastSeen: time }))
      .openapi({ description: 'every site that attested the chip, with the first and last time' }),
    alerts: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('ChipCustody');

export function chipsRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{serial}',
      roles: ['compliance'],
      summary: "A chip's custody chain",
      description:
        'Every shipment that carried the serial (status, fixes, arrival, installation), the sites that attested it (first and last time), the newest 1,000 attestations naming it in time order, and its alerts.',
      request: { params: z.object({ serial: z.string().min(1).max(128).openapi({ example: 'GPU-0001' }) }) },
      responses: { 200: json(custodySchema, 'the custody chain') },
    }),
    async (c) => {
      const { serial } = c.req.valid('param');
      const custody = await chipCustody(db, serial);
      if (custody.shipments.length === 0 && custody.attestations.length === 0) {
        throw new AppError('NOT_FOUND', `no shipment carried and no site attested chip ${serial}`);
      }
      return c.json(custody, 200);
    },
  );
  return r;
}

const MAX_ATTESTATIONS = 1000;

/** Shipment(s) that carried the serial with a summary of their fixes, every attestation naming it, its alerts. */
async function chipCustody(db: Pool, serial: string) {
  const shipments = await db.query(
    `SELECT s.id, s.reference, s.device_id, s.mode, s.status, s.origin, s.destination, s.created_at, s.started_at,
            s.arrived_at, s.installed_at,
            (SELECT json_build_object('count', count(*), 'first', min(t.ts), 'last', max(t.ts))
               FROM telemetry t WHERE t.shipment_id = s.id) AS fixes
       FROM shipments s WHERE s.chips @> ARRAY[$1]::text[] ORDER BY s.created_at`,
    [serial],
  );
  const attestations = await db.query(
    // The newest ones: where the chip runs now matters more than its first days (site_chips keeps the span).
    `SELECT site_id, ts, seq, lat, lon, flags FROM attestations WHERE chips @> ARRAY[$1]::text[]
      ORDER BY ts DESC, site_id LIMIT $2`,
    [serial, MAX_ATTESTATIONS + 1],
  );
  attestations.rows.reverse();
  const atSites = await db.query(
    'SELECT site_id, first_seen, last_seen FROM site_chips WHERE serial = $1 ORDER BY first_seen',
    [serial],
  );
  const alerts = await db.query(
    `SELECT id, type, severity, status, shipment_id, site_id, opened_at, details FROM alerts
      WHERE shipment_id = ANY($1::text[]) OR details->'serials' ? $2 ORDER BY id`,
    [shipments.rows.map((s) => s.id), serial],
  );
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    serial,
    shipments: shipments.rows.map((s) => ({
      id: s.id,
      reference: s.reference,
      deviceId: s.device_id,
      mode: s.mode,
      status: s.status,
      origin: s.origin,
      destination: s.destination,
      createdAt: iso(s.created_at),
      startedAt: iso(s.started_at),
      arrivedAt: iso(s.arrived_at),
      installedAt: iso(s.installed_at),
      fixes: s.fixes,
    })),
    attestations: attestations.rows.slice(-MAX_ATTESTATIONS).map((a) => ({
      siteId: a.site_id,
      at: a.ts.toISOString(),
      seq: a.seq,
      location: { lat: a.lat, lon: a.lon },
      flags: a.flags,
    })),
    attestationsTruncated: attestations.rows.length > MAX_ATTESTATIONS,
    sites: atSites.rows.map((r) => ({
      siteId: r.site_id as string,
      firstSeen: (r.first_seen as Date).toISOString(),
      lastSeen: (r.last_seen as Date).toISOString(),
    })),
    alerts: alerts.rows.map((a) => ({
      id: String(a.id),
      type: a.type,
      severity: a.severity,
      status: a.status,
      shipmentId: a.shipment_id,
      siteId: a.site_id,
      openedAt: a.opened_at.toISOString(),
      details: a.details,
    })),
  };
}
