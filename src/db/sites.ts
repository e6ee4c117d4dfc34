// Data centers and their attestations: the registry, and the SQL of the attestation half of an ingest batch.
import type { ChipExpectation, SightingElsewhere } from '../checks/attestation.ts';
import type { PublicJwk, SigningAlg } from '../verify/keys.ts';
import { kidTaken } from './devices.ts';
import { type Pool, type PoolClient, withTransaction } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface NewSite {
  id: string;
  name: string;
  endUser: string | null;
  lat: number;
  lon: number;
  radiusKm: number;
  country: string | null;
  params: Record<string, number>;
  jwk: PublicJwk;
  firstSeq?: number;
}

/** Inserts a site with its key, both or neither; false when the id or the kid (of any tracker or site) is taken. */
export async function insertSite(db: Pool, s: NewSite, by: string): Promise<boolean> {
  return withTransaction(db, async (c) => {
    if (await kidTaken(c, s.jwk.kid)) return false;
    const site = await c.query(
      `INSERT INTO sites (id, name, end_user, lat, lon, radius_km, country, params, created_by, first_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [s.id, s.name, s.endUser, s.lat, s.lon, s.radiusKm, s.country, s.params, by, s.firstSeq ?? 1],
    );
    if (site.rowCount !== 1) return false;
    await c.query('INSERT INTO site_keys (kid, site_id, alg, public_jwk) VALUES ($1, $2, $3, $4)', [
      s.jwk.kid,
      s.id,
      s.jwk.alg,
      JSON.stringify(s.jwk),
    ]);
    return true;
  }).catch((e) => {
    if ((e as { code?: string }).code === '23505') return false;
    throw e;
  });
}

export interface SiteRow extends Omit<NewSite, 'jwk'> {
  createdAt: Date;
  revokedAt: Date | null;
  lastAttestedAt: Date | null;
  lastSeq: number | null;
  lastLocation: { lat: number; lon: number } | null;
  lastLandmarks: { landmarkId: string; rttMs: number }[] | null;
  lastChips: string[] | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const siteRow = (r: any): SiteRow => ({
  id: r.id,
  name: r.name,
  endUser: r.end_user,
  lat: r.lat,
  lon: r.lon,
  radiusKm: r.radius_km,
  country: r.country,
  params: r.params,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastAttestedAt: r.last_attested_at,
  lastSeq: r.last_seq,
  lastLocation: r.last_location,
  lastLandmarks: r.last_landmarks,
  lastChips: r.last_chips,
});

export async function getSite(db: Queryable, id: string): Promise<SiteRow | undefined> {
  const res = await db.query('SELECT * FROM sites WHERE id = $1', [id]);
  return res.rows[0] ? siteRow(res.rows[0]) : undefined;
}

export async function listSites(db: Queryable, limit: number, afterId?: string): Promise<SiteRow[]> {
  const res = await db.query('SELECT * FROM sites WHERE ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $1', [
    limit,
    afterId ?? null,
  ]);
  return res.rows.map(siteRow);
}

export async function siteKeys(db: Queryable, siteId: string) {
  const res = await db.query(
    'SELECT kid, alg, public_jwk, created_at, revoked_at FROM site_keys WHERE site_id = $1 ORDER BY created_at',
    [siteId],
  );
  return res.rows.map((r) => ({
    kid: r.kid as string,
    alg: r.alg as SigningAlg,
    publicJwk: r.public_jwk as PublicJwk,
    createdAt: (r.created_at as Date).toISOString(),
    revokedAt: r.revoked_at ? (r.revoked_at as Date).toISOString() : null,
  }));
}

// ---- the attestation half of an ingest batch ----

export interface AttestationRow {
  siteId: string;
  seq: number;
  payloadSha256: Buffer;
  kid: string;
  topic: string;
  jws: string;
  receivedAt: number;
  sentAt: number;
  lat: number;
  lon: number;
  chips: string[];
  landmarks: { landmarkId: string; rttMs: number }[];
  flags: string[];
}

export async function insertAttestation(c: PoolClient, a: AttestationRow): Promise<void> {
  await c.query(
    `INSERT INTO attestation_messages (site_id, seq, payload_sha256, kid, topic, jws, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0))`,
    [a.siteId, a.seq, a.payloadSha256, a.kid, a.topic, a.jws, a.receivedAt],
  );
  await c.query(
    `INSERT INTO attestations (site_id, ts, seq, lat, lon, chips, landmarks, received_at, flags)
     VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0), $9)`,
    [a.siteId, a.sentAt, a.seq, a.lat, a.lon, a.chips, JSON.stringify(a.landmarks), a.receivedAt, a.flags],
  );
}

/** Records the site's latest attestation (only when it is newer than the one recorded). */
export async function saveSiteLatest(c: PoolClient, a: AttestationRow): Promise<void> {
  await c.query(
    `UPDATE sites SET last_attested_at = to_timestamp($2 / 1000.0), last_seq = $3, last_location = $4,
                      last_landmarks = $5, last_chips = $6
      WHERE id = $1 AND (last_attested_at IS NULL OR last_attested_at <= to_timestamp($2 / 1000.0))`,
    [a.siteId, a.sentAt, a.seq, { lat: a.lat, lon: a.lon }, JSON.stringify(a.landmarks), a.chips],
  );
}

/** Where custody puts each serial: the latest shipment that carried it (not cancelled). */
export async function chipExpectations(
  c: Queryable,
  serials: string[],
): Promise<Map<string, ChipExpectation>> {
  if (serials.length === 0) return new Map();
  const res = await c.query(
    `SELECT DISTINCT ON (serial) serial, s.id, s.destination
       FROM shipments s, unnest(s.chips) AS serial
      WHERE s.chips && $1::text[] AND serial = ANY($1::text[]) AND s.status NOT IN ('cancelled', 'planned')
      ORDER BY serial, s.created_at DESC`,
    [serials],
  );
  return new Map(
    res.rows.map((r) => {
      const d = r.destination as { siteId?: string; lat?: number; lon?: number; radiusKm?: number };
      const place =
        d.siteId === undefined && d.lat !== undefined && d.lon !== undefined
          ? { lat: d.lat, lon: d.lon, radiusKm: d.radiusKm ?? 50 }
          : null;
      return [r.serial as string, { shipmentId: r.id as string, siteId: d.siteId ?? null, place }];
    }),
  );
}

/** Each serial's latest sighting at any other site, with that site's registered location. */
export async function sightingsElsewhere(
  c: PoolClient,
  siteId: string,
  serials: string[],
): Promise<SightingElsewhere[]> {
  if (serials.length === 0) return [];
  const res = await c.query(
    `SELECT DISTINCT ON (sc.serial) sc.serial, sc.site_id, sc.last_seen, s.lat, s.lon
       FROM site_chips sc JOIN sites s ON s.id = sc.site_id
      WHERE sc.serial = ANY($2::text[]) AND sc.site_id <> $1
      ORDER BY sc.serial, sc.last_seen DESC`,
    [siteId, serials],
  );
  return res.rows.map((r) => ({
    serial: r.serial,
    siteId: r.site_id,
    at: (r.last_seen as Date).getTime(),
    lat: r.lat,
    lon: r.lon,
  }));
}

export async function recordChipSightings(c: PoolClient, siteId: string, serials: string[], at: number) {
  if (serials.length === 0) return;
  await c.query(
    `INSERT INTO site_chips (site_id, serial, first_seen, last_seen)
     SELECT $1, serial, to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0) FROM unnest($2::text[]) AS serial
     ON CONFLICT (site_id, serial) DO UPDATE
       SET last_seen = greatest(site_chips.last_seen, EXCLUDED.last_seen),
           first_seen = least(site_chips.first_seen, EXCLUDED.first_seen)`,
    [siteId, serials, at],
  );
}

/** Serials delivered to the site: chips of shipments bound for it that arrived (or were installed). */
export async function deliveredChips(
  c: Queryable,
  siteId: string,
): Promise<{ serial: string; shipmentId: string; since: number }[]> {
  const res = await c.query(
    `SELECT serial, s.id, coalesce(s.arrived_at, s.started_at, s.created_at) AS since
       FROM shipments s, unnest(s.chips) AS serial
      WHERE s.destination->>'siteId' = $1 AND s.status IN ('arrived', 'installed')
        -- A serial a later shipment took elsewhere is no longer expected here.
        AND NOT EXISTS (SELECT 1 FROM shipments later
                         WHERE later.chips @> ARRAY[serial] AND later.created_at > s.created_at
                           AND later.status NOT IN ('cancelled', 'planned'))`,
    [siteId],
  );
  return res.rows.map((r) => ({ serial: r.serial, shipmentId: r.id, since: (r.since as Date).getTime() }));
}

export async function lastSeenAt(
  c: Queryable,
  siteId: string,
  serials: string[],
): Promise<Map<string, number>> {
  if (serials.length === 0) return new Map();
  const res = await c.query(
    'SELECT serial, last_seen FROM site_chips WHERE site_id = $1 AND serial = ANY($2::text[])',
    [siteId, serials],
  );
  return new Map(res.rows.map((r) => [r.serial as string, (r.last_seen as Date).getTime()]));
}

/**
 * Shipments that arrived at the site and whose every chip its attestation now lists become `installed`. Only after
 * arrival: a signed attestation must not end the tracking of a shipment still on its way.
 */
export async function markInstalled(
  c: PoolClient,
  siteId: string,
  chips: string[],
  at: number,
): Promise<string[]> {
  const res = await c.query(
    `UPDATE shipments SET status = 'installed', installed_at = to_timestamp($3 / 1000.0)
      WHERE destination->>'siteId' = $1 AND status = 'arrived'
        AND cardinality(chips) > 0 AND chips <@ $2::text[]
      RETURNING id`,
    [siteId, chips, at],
  );
  return res.rows.map((r) => r.id as string);
}

/** Sites that stopped attesting: last attestation older than their threshold; claimed with SKIP LOCKED. */
export async function lockSilentSites(
  c: PoolClient,
  nowMs: number,
  defaultSilentS: number,
): Promise<{ id: string; lastAttestedAt: number; silentAfterS: number }[]> {
  const res = await c.query(
    `SELECT id, last_attested_at, coalesce((params->>'siteSilentAfterS')::float8, $2) AS silent_after_s FROM sites
      WHERE revoked_at IS NULL AND last_attested_at IS NOT NULL
        AND last_attested_at < to_timestamp($1 / 1000.0) - make_interval(secs => coalesce((params->>'siteSilentAfterS')::float8, $2))
        AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.type = 'CHIP_MISSING' AND a.subject = 'site:' || sites.id || ':silent'
                          AND a.status <> 'resolved')
      ORDER BY id FOR UPDATE SKIP LOCKED`,
    [nowMs, defaultSilentS],
  );
  return res.rows.map((r) => ({
    id: r.id,
    lastAttestedAt: (r.last_attested_at as Date).getTime(),
    silentAfterS: r.silent_after_s,
  }));
}

/** A page of a site's attestations, newest first; `before` is the (ts ms, seq) of the previous page's last row. */
export async function listAttestations(
  db: Queryable,
  siteId: string,
  limit: number,
  q: { fromMs?: number; toMs?: number; before?: [number, number] | undefined } = {},
) {
  const res = await db.query(
    `SELECT ts, seq, lat, lon, chips, landmarks, received_at, flags FROM attestations
      WHERE site_id = $1
        AND ($3::float8 IS NULL OR ts >= to_timestamp($3 / 1000.0))
        AND ($4::float8 IS NULL OR ts < to_timestamp($4 / 1000.0))
        AND ($5::float8 IS NULL OR (ts, seq) < (to_timestamp($5 / 1000.0), $6::bigint))
      ORDER BY ts DESC, seq DESC LIMIT $2`,
    [siteId, limit, q.fromMs ?? null, q.toMs ?? null, q.before?.[0] ?? null, q.before?.[1] ?? null],
  );
  return res.rows.map((r) => ({
    ts: (r.ts as Date).toISOString(),
    seq: r.seq as number,
    location: { lat: r.lat as number, lon: r.lon as number },
    chips: r.chips as string[],
    landmarks: r.landmarks as { landmarkId: string; rttMs: number }[],
    receivedAt: (r.received_at as Date).toISOString(),
    flags: r.flags as string[],
  }));
}
