// Reads what goes into a shipment's evidence bundle: its tracker's signed messages, the attestations naming its
// chips, every key that signed them, the sites and landmarks involved, the related alerts with their audit, and the
// policy it is checked against (db/evidence-policy.ts).

import type { ShipmentRecord } from '../checks/shipment.ts';
import type { BundleAlert, BundleKey, BundleMessage, UnsignedBundle } from '../evidence/bundle.ts';
import { BUNDLE_FORMAT } from '../evidence/bundle.ts';
import { completeness } from '../evidence/completeness.ts';
import { landmarksUsed } from '../evidence/landmarks.ts';
import type { Policy } from '../geo/policy.ts';
import { alertView, auditTrails } from './alerts.ts';
import { gatherPolicy } from './evidence-policy.ts';
import { type Pool, type PoolClient, withTransaction } from './pool.ts';
import { shipmentSpan } from './queries.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type Queryable = Pool | PoolClient;

/** The tracker's messages that carried at least one fix of the shipment, in seq order. */
async function trackerMessages(
  db: Queryable,
  deviceId: string,
  shipmentId: string,
): Promise<BundleMessage[]> {
  // Bounded by the shipment's span, as constants (chunks outside it are never planned): a record's device time is at
  // most MAX_CLOCK_SKEW_S (≤ 1 day) ahead of its receipt.
  const span = await shipmentSpan(db, shipmentId);
  if (!span) return [];
  const res = await db.query(
    `SELECT m.topic, m.received_at, m.jws FROM messages m
      WHERE m.device_id = $1
        AND m.received_at BETWEEN to_timestamp($3 / 1000.0) - interval '1 day' AND to_timestamp($5 / 1000.0)
        AND EXISTS (SELECT 1 FROM telemetry t WHERE t.device_id = m.device_id AND t.seq = m.seq AND t.shipment_id = $2
                       AND t.ts BETWEEN to_timestamp($3 / 1000.0) AND to_timestamp($4 / 1000.0))
      ORDER BY m.seq`,
    [deviceId, shipmentId, span.fromMs - 1, span.toMs + 1, span.receivedToMs + 1],
  );
  return res.rows.map((r) => ({
    kind: 'telemetry' as const,
    topic: r.topic,
    receivedAt: r.received_at.toISOString(),
    jws: r.jws,
  }));
}

/** The attestation messages naming any of the chips, in time order, with the site that sent each. */
async function attestationMessages(db: Queryable, chips: string[]) {
  if (chips.length === 0) return [];
  const res = await db.query(
    `SELECT m.site_id, m.topic, m.received_at, m.jws FROM attestation_messages m
       JOIN attestations a ON a.site_id = m.site_id AND a.seq = m.seq
      WHERE a.chips && $1::text[] ORDER BY a.ts, m.site_id, m.seq`,
    [chips],
  );
  return res.rows.map((r) => ({
    siteId: r.site_id as string,
    message: {
      kind: 'attestation' as const,
      topic: r.topic,
      receivedAt: r.received_at.toISOString(),
      jws: r.jws,
    } satisfies BundleMessage,
  }));
}

/** Every key of the device, revoked ones included (revoked when the key or the device is). */
async function deviceKeysOf(db: Queryable, deviceId: string): Promise<BundleKey[]> {
  const res = await db.query(
    `SELECT k.kid, k.device_id, k.alg, k.public_jwk, k.created_at, least(k.revoked_at, d.revoked_at) AS revoked_at
       FROM device_keys k JOIN devices d ON d.id = k.device_id WHERE k.device_id = $1 ORDER BY k.created_at`,
    [deviceId],
  );
  return res.rows.map((k) => ({
    owner: 'device' as const,
    ownerId: k.device_id,
    kid: k.kid,
    alg: k.alg,
    publicJwk: k.public_jwk,
    registeredAt: k.created_at.toISOString(),
    revokedAt: iso(k.revoked_at),
  }));
}

/** Every key of the sites, revoked ones included (revoked when the key or the site is). */
async function siteKeysOf(db: Queryable, siteIds: string[]): Promise<BundleKey[]> {
  const res = await db.query(
    `SELECT k.kid, k.site_id, k.alg, k.public_jwk, k.created_at, least(k.revoked_at, st.revoked_at) AS revoked_at
       FROM site_keys k JOIN sites st ON st.id = k.site_id WHERE k.site_id = ANY($1::text[]) ORDER BY k.created_at`,
    [siteIds],
  );
  return res.rows.map((k) => ({
    owner: 'site' as const,
    ownerId: k.site_id,
    kid: k.kid,
    alg: k.alg,
    publicJwk: k.public_jwk,
    registeredAt: k.created_at.toISOString(),
    revokedAt: iso(k.revoked_at),
  }));
}

async function sitesOf(db: Queryable, siteIds: string[]) {
  const res = await db.query(
    'SELECT id, name, lat, lon, radius_km, country FROM sites WHERE id = ANY($1::text[]) ORDER BY id',
    [siteIds],
  );
  return res.rows.map((r) => ({
    id: r.id,
    name: r.name,
    lat: r.lat,
    lon: r.lon,
    radiusKm: r.radius_km,
    country: r.country,
  }));
}

async function allLandmarks(db: Queryable) {
  const res = await db.query('SELECT id, lat, lon FROM landmarks ORDER BY id');
  return res.rows.map((r) => ({ id: r.id, lat: r.lat, lon: r.lon }));
}

/** The shipment's alerts, and site alerts naming one of its chips, each with its audit trail. */
async function alertsOf(db: Queryable, shipmentId: string, chips: string[]): Promise<BundleAlert[]> {
  const res = await db.query(
    `SELECT * FROM alerts WHERE shipment_id = $1 OR (cardinality($2::text[]) > 0 AND details->'serials' ?| $2::text[])
      ORDER BY id`,
    [shipmentId, chips],
  );
  const trails = await auditTrails(
    db,
    res.rows.map((a) => Number(a.id)),
  );
  return res.rows.map((a) => ({ ...alertView(a), audit: trails.get(Number(a.id)) ?? [] }));
}

/** `policy`: the policy the checks run against now, whose version the bundle names (left out when not given). */
export async function gatherEvidence(
  db: Queryable,
  s: ShipmentRecord,
  generatedBy: string,
  policy?: Policy,
): Promise<UnsignedBundle> {
  const telemetry = await trackerMessages(db, s.deviceId, s.id);
  const attestations = await attestationMessages(db, s.chips);
  const siteIds = [
    ...new Set([
      ...attestations.map((a) => a.siteId),
      ...(s.destination.siteId ? [s.destination.siteId] : []),
    ]),
  ];
  const keys = [...(await deviceKeysOf(db, s.deviceId)), ...(await siteKeysOf(db, siteIds))];
  const sites = await sitesOf(db, siteIds);
  const landmarks = await allLandmarks(db);
  const alerts = await alertsOf(db, s.id, s.chips);
  const messages = [...telemetry, ...attestations.map((a) => a.message)];
  return {
    format: BUNDLE_FORMAT,
    generatedAt: new Date().toISOString(),
    generatedBy,
    shipment: {
      id: s.id,
      reference: s.reference,
      deviceId: s.deviceId,
      mode: s.mode,
      status: s.status,
      origin: s.origin,
      destination: s.destination,
      chips: s.chips,
      reportIntervalS: s.reportIntervalS,
      routeLengthKm: Math.round(s.route.lengthKm * 10) / 10,
      createdAt: s.createdAt,
      startedAt: s.startedAt,
      arrivedAt: s.arrivedAt,
      installedAt: s.installedAt,
    },
    sites,
    // Only the landmarks the bundle's attestations measured: the rest proves nothing about this shipment.
    landmarks: landmarksUsed(messages, landmarks),
    keys,
    messages,
    alerts,
    completeness: completeness(messages, s.reportIntervalS),
    // The policy it was checked against: the file's version, its overrides, its licences and who set each, when.
    policy: await gatherPolicy(db, s, policy),
  };
}

/** `gatherEvidence` in one read-only snapshot: alerts, their audit rows and the messages as of one moment. */
export function gatherEvidenceSnapshot(
  pool: Pool,
  s: ShipmentRecord,
  generatedBy: string,
  policy?: Policy,
): Promise<UnsignedBundle> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return gatherEvidence(tx, s, generatedBy, policy);
  });
}
