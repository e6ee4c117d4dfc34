// A chip's custody, read by serial: the shipments that carried it, the attestations that name it, the sites that
// attested it and its alerts. One query each.
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Shipments whose chips include the serial, oldest first, each with a summary of its fixes. */
export async function shipmentsCarrying(db: Queryable, serial: string) {
  const res = await db.query(
    `SELECT s.id, s.reference, s.device_id, s.mode, s.status, s.origin, s.destination, s.created_at, s.started_at,
            s.arrived_at, s.installed_at,
            -- Kept with the shipment by the statement that stores its fixes: no telemetry is read.
            json_build_object('count', s.fix_count, 'first', s.fixes_from, 'last', s.fixes_to) AS fixes
       FROM shipments s WHERE s.chips @> ARRAY[$1]::text[] ORDER BY s.created_at`,
    [serial],
  );
  return res.rows.map((s) => ({
    id: s.id as string,
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
  }));
}

/**
 * The newest `limit` attestations naming the serial, newest first; read only between the first and last time a site
 * attested it (site_chips), so the scan never leaves the chip's own span.
 */
export async function attestationsNaming(db: Queryable, serial: string, limit: number) {
  // The span first, passed as constants: TimescaleDB then plans only the chunks inside it.
  const span = await db.query(
    `SELECT (extract(epoch from min(first_seen)) * 1000)::float8 AS from_ms,
            (extract(epoch from max(last_seen)) * 1000)::float8 AS to_ms
       FROM site_chips WHERE serial = $1`,
    [serial],
  );
  const { from_ms: fromMs = null, to_ms: toMs = null } = (span.rows[0] ?? {}) as {
    from_ms?: number | null;
    to_ms?: number | null;
  };
  if (fromMs === null || toMs === null) return [];
  const res = await db.query(
    `SELECT site_id, ts, seq, lat, lon, flags FROM attestations
      WHERE chips @> ARRAY[$1]::text[] AND ts BETWEEN to_timestamp($3 / 1000.0) AND to_timestamp($4 / 1000.0)
      ORDER BY ts DESC, site_id LIMIT $2`,
    [serial, limit, fromMs - 1, toMs + 1],
  );
  return res.rows.map((a) => ({
    siteId: a.site_id as string,
    at: (a.ts as Date).toISOString(),
    seq: a.seq as number,
    location: { lat: a.lat as number, lon: a.lon as number },
    flags: a.flags as string[],
  }));
}

/** Every site that attested the serial, with the first and last time, in order of the first. */
export async function sitesOfChip(db: Queryable, serial: string) {
  const res = await db.query(
    'SELECT site_id, first_seen, last_seen FROM site_chips WHERE serial = $1 ORDER BY first_seen',
    [serial],
  );
  return res.rows.map((r) => ({
    siteId: r.site_id as string,
    firstSeen: (r.first_seen as Date).toISOString(),
    lastSeen: (r.last_seen as Date).toISOString(),
  }));
}

/** Alerts of the shipments, or whose evidence names the serial, in id order. */
export async function chipAlerts(db: Queryable, serial: string, shipmentIds: string[]) {
  const res = await db.query(
    `SELECT id, type, severity, status, shipment_id, site_id, opened_at, details FROM alerts
      WHERE shipment_id = ANY($1::text[]) OR details->'serials' ? $2 ORDER BY id`,
    [shipmentIds, serial],
  );
  return res.rows.map((a) => ({
    id: String(a.id),
    type: a.type as string,
    severity: a.severity as string,
    status: a.status as string,
    shipmentId: a.shipment_id as string | null,
    siteId: a.site_id as string | null,
    openedAt: (a.opened_at as Date).toISOString(),
    details: a.details as Record<string, unknown>,
  }));
}
