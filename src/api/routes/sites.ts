// /v1/sites, /v1/landmarks, /v1/chips: the data-center registry, RTT landmarks, a site's status with the region its
// RTTs allow, and a chip's custody chain from shipment to the site where it runs.
import { Hono } from 'hono';
import { z } from 'zod';
import { feasibleRegion, rttBoundKm, samplePoints } from '../../checks/attestation.ts';
import { siteParamsSchema } from '../../checks/site-params.ts';
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
  siteKidExists,
} from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { jsonBody, query } from '../validate.ts';

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'ids are 1–128 of A–Z a–z 0–9 . _ : -');
const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);

export const siteBody = z.object({
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
  publicKeyJwk: z.unknown(),
});

export const landmarkBody = z.object({
  id,
  name: z.string().max(200).optional(),
  lat,
  lon,
  publicKeyJwk: z.unknown().optional(),
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});

/** A site is `active` while it attests within its silence threshold. */
function siteStatus(s: SiteRow, now: number): 'never_attested' | 'active' | 'silent' | 'revoked' {
  if (s.revokedAt) return 'revoked';
  if (!s.lastAttestedAt) return 'never_attested';
  const silentAfterMs = (Number(s.params.siteSilentAfterS) || 3 * 3600) * 1000;
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
  const r = new Hono<AppEnv>();

  r.post('/', requireRole('admin'), async (c) => {
    const b = await jsonBody(c, siteBody);
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
      const what = (await siteKidExists(db, jwk.kid)) ? `key id ${jwk.kid}` : `site ${b.id}`;
      throw new AppError('CONFLICT', `${what} is already registered`);
    }
    return c.json(siteSummary((await getSite(db, b.id))!), 201, { Location: `/v1/sites/${b.id}` });
  });

  r.get('/', requireRole('compliance'), async (c) => {
    const q = query(c, listQuery);
    const after = decodeCursor(q.cursor, 1)?.[0] as string | undefined;
    const items = await listSites(db, q.limit, after);
    return c.json(page(items, q.limit, siteSummary, (s) => [s.id]));
  });

  r.get('/:id', requireRole('compliance'), async (c) => {
    const site = await getSite(db, c.req.param('id'));
    if (!site) throw new AppError('NOT_FOUND', `no site ${c.req.param('id')}`);
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
    const alerts = await db.query(
      `SELECT id, type, severity, status, opened_at, last_seen_at, count, details FROM alerts
        WHERE site_id = $1 AND status <> 'resolved' ORDER BY id DESC LIMIT 100`,
      [site.id],
    );
    return c.json({
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
      openAlerts: alerts.rows.map((a) => ({
        id: String(a.id),
        type: a.type,
        severity: a.severity,
        status: a.status,
        openedAt: a.opened_at.toISOString(),
        lastSeenAt: a.last_seen_at.toISOString(),
        count: a.count,
        details: a.details,
      })),
    });
  });

  return r;
}

export function landmarksRouter(db: Pool) {
  const r = new Hono<AppEnv>();
  r.post('/', requireRole('admin'), async (c) => {
    const b = await jsonBody(c, landmarkBody);
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
    return c.json({ id: b.id, name: b.name ?? null, lat: b.lat, lon: b.lon, publicKeyJwk: jwk }, 201, {
      Location: `/v1/landmarks/${b.id}`,
    });
  });
  r.get('/', requireRole('compliance'), async (c) =>
    c.json({ items: await listLandmarks(db), nextCursor: null }),
  );
  return r;
}

export function chipsRouter(db: Pool) {
  const r = new Hono<AppEnv>();
  r.get('/:serial', requireRole('compliance'), async (c) => {
    const serial = c.req.param('serial');
    if (serial.length > 128) throw new AppError('NOT_FOUND', 'no such chip');
    const custody = await chipCustody(db, serial);
    if (custody.shipments.length === 0 && custody.attestations.length === 0) {
      throw new AppError('NOT_FOUND', `no shipment carried and no site attested chip ${serial}`);
    }
    return c.json(custody);
  });
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
    `SELECT site_id, ts, seq, lat, lon, flags FROM attestations WHERE chips @> ARRAY[$1]::text[]
      ORDER BY ts, site_id LIMIT $2`,
    [serial, MAX_ATTESTATIONS + 1],
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
    attestations: attestations.rows.slice(0, MAX_ATTESTATIONS).map((a) => ({
      siteId: a.site_id,
      at: a.ts.toISOString(),
      seq: a.seq,
      location: { lat: a.lat, lon: a.lon },
      flags: a.flags,
    })),
    attestationsTruncated: attestations.rows.length > MAX_ATTESTATIONS,
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
