// Reads what goes into a shipment's evidence bundle: its tracker's signed messages, the attestations naming its
// chips, every key that signed them, the sites and landmarks involved, and the related alerts with their audit.
import type { BundleAlert, BundleKey, BundleMessage, UnsignedBundle } from '../evidence/bundle.ts';
import { BUNDLE_FORMAT } from '../evidence/bundle.ts';
import { alertView, auditTrails } from './alerts.ts';
import type { Pool, PoolClient } from './pool.ts';
import type { ShipmentRecord } from './shipments.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function gatherEvidence(
  db: Pool | PoolClient,
  s: ShipmentRecord,
  generatedBy: string,
): Promise<UnsignedBundle> {
  // The tracker's messages that carried at least one fix of this shipment.
  const telemetry = await db.query(
    `SELECT m.topic, m.received_at, m.jws FROM messages m
      WHERE m.device_id = $1
        AND EXISTS (SELECT 1 FROM telemetry t WHERE t.device_id = m.device_id AND t.seq = m.seq AND t.shipment_id = $2)
      ORDER BY m.seq`,
    [s.deviceId, s.id],
  );
  const attestations =
    s.chips.length === 0
      ? { rows: [] }
      : await db.query(
          `SELECT m.site_id, m.topic, m.received_at, m.jws FROM attestation_messages m
             JOIN attestations a ON a.site_id = m.site_id AND a.seq = m.seq
            WHERE a.chips && $1::text[] ORDER BY a.ts, m.site_id, m.seq`,
          [s.chips],
        );
  const siteIds = [
    ...new Set([
      ...attestations.rows.map((r) => r.site_id as string),
      ...(s.destination.siteId ? [s.destination.siteId] : []),
    ]),
  ];
  const messages: BundleMessage[] = [
    ...telemetry.rows.map((r) => ({
      kind: 'telemetry' as const,
      topic: r.topic,
      receivedAt: r.received_at.toISOString(),
      jws: r.jws,
    })),
    ...attestations.rows.map((r) => ({
      kind: 'attestation' as const,
      topic: r.topic,
      receivedAt: r.received_at.toISOString(),
      jws: r.jws,
    })),
  ];

  const deviceKeys = await db.query(
    `SELECT k.kid, k.device_id, k.alg, k.public_jwk, k.created_at, least(k.revoked_at, d.revoked_at) AS revoked_at
       FROM device_keys k JOIN devices d ON d.id = k.device_id WHERE k.device_id = $1 ORDER BY k.created_at`,
    [s.deviceId],
  );
  const siteKeys = await db.query(
    `SELECT k.kid, k.site_id, k.alg, k.public_jwk, k.created_at, least(k.revoked_at, st.revoked_at) AS revoked_at
       FROM site_keys k JOIN sites st ON st.id = k.site_id WHERE k.site_id = ANY($1::text[]) ORDER BY k.created_at`,
    [siteIds],
  );
  const keys: BundleKey[] = [
    ...deviceKeys.rows.map((k) => ({
      owner: 'device' as const,
      ownerId: k.device_id,
      kid: k.kid,
      alg: k.alg,
      publicJwk: k.public_jwk,
      registeredAt: k.created_at.toISOString(),
      revokedAt: iso(k.revoked_at),
    })),
    ...siteKeys.rows.map((k) => ({
      owner: 'site' as const,
      ownerId: k.site_id,
      kid: k.kid,
      alg: k.alg,
      publicJwk: k.public_jwk,
      registeredAt: k.created_at.toISOString(),
      revokedAt: iso(k.revoked_at),
    })),
  ];

  const sites = await db.query(
    'SELECT id, name, lat, lon, radius_km, country FROM sites WHERE id = ANY($1::text[]) ORDER BY id',
    [siteIds],
  );
  const landmarks = await db.query('SELECT id, lat, lon FROM landmarks ORDER BY id');

  // The shipment's alerts, and site alerts naming one of its chips.
  const alertRows = await db.query(
    `SELECT * FROM alerts WHERE shipment_id = $1 OR (cardinality($2::text[]) > 0 AND details->'serials' ?| $2::text[])
      ORDER BY id`,
    [s.id, s.chips],
  );
  const trails = await auditTrails(
    db,
    alertRows.rows.map((a) => Number(a.id)),
  );
  const alerts: BundleAlert[] = alertRows.rows.map((a) => ({
    ...alertView(a),
    audit: trails.get(Number(a.id)) ?? [],
  }));

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
    sites: sites.rows.map((r) => ({
      id: r.id,
      name: r.name,
      lat: r.lat,
      lon: r.lon,
      radiusKm: r.radius_km,
      country: r.country,
    })),
    landmarks: landmarks.rows.map((r) => ({ id: r.id, lat: r.lat, lon: r.lon })),
    keys,
    messages,
    alerts,
  };
}
