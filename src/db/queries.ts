// Read queries of the API's lists: positions, rejections, devices, zones — keyset-paginated, one query each.
import type { TelemetryRecord } from '../verify/telemetry-schema.ts';
import type { DeviceRow } from './devices.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

/** The device-time span of a shipment's fixes, and when its last fix was received (epoch ms). */
export interface ShipmentSpan {
  fromMs: number;
  toMs: number;
  receivedToMs: number;
}

/**
 * The span of a shipment's fixes (shipments.fixes_from/fixes_to, kept by the statement that stores telemetry), or
 * null when it has none. Every read of a shipment's telemetry passes it as constants, so TimescaleDB excludes the
 * chunks outside it when planning and never opens the compressed history around the journey (a sub-select in the
 * same statement would not: its value is known only at run time, after every chunk is in the plan).
 */
export async function shipmentSpan(db: Queryable, shipmentId: string): Promise<ShipmentSpan | null> {
  const res = await db.query(
    `SELECT (extract(epoch from fixes_from) * 1000)::float8 AS from_ms, (extract(epoch from fixes_to) * 1000)::float8 AS to_ms,
            (extract(epoch from fixes_received_to) * 1000)::float8 AS received_to_ms
       FROM shipments WHERE id = $1 AND fixes_from IS NOT NULL`,
    [shipmentId],
  );
  const r = res.rows[0];
  return r ? { fromMs: r.from_ms, toMs: r.to_ms, receivedToMs: r.received_to_ms } : null;
}

/** A fix as the API shows it: the record's fields that were sent (time as RFC 3339), and where it was stored from. */
export interface Position extends Omit<TelemetryRecord, 'ts'> {
  ts: string;
  seq: number;
  receivedAt: string;
  shipmentId?: string;
  flags: string[];
}

export interface PositionQuery {
  deviceId?: string;
  shipmentId?: string;
  fromMs: number;
  toMs: number;
  limit: number;
  after?: [number, number, number];
  /** `asc` (default): oldest first; `desc`: newest first. */
  order?: 'asc' | 'desc';
}

export async function listPositions(db: Pool, q: PositionQuery) {
  if (q.shipmentId) {
    // A shipment's positions: the asked range, narrowed to the shipment's span (end inclusive).
    const span = await shipmentSpan(db, q.shipmentId);
    if (!span) return [];
    q = { ...q, fromMs: Math.max(q.fromMs, span.fromMs), toMs: Math.min(q.toMs, span.toMs + 1) };
    if (q.fromMs >= q.toMs) return [];
  }
  const res = await db.query(
    `SELECT (extract(epoch from ts) * 1000)::float8 AS ts_ms, seq, idx, lat, lon, alt_m, speed_kmh, heading_deg, hdop,
            satellites, battery_pct, temperature_c, light_lux, tamper, received_at, shipment_id, flags
       FROM telemetry
      WHERE ($1::text IS NULL OR device_id = $1) AND ($8::text IS NULL OR shipment_id = $8)
        AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
        AND ($5::float8 IS NULL OR (ts, seq, idx) ${q.order === 'desc' ? '<' : '>'} (to_timestamp($5 / 1000.0), $6::bigint, $7::int))
      ORDER BY ${q.order === 'desc' ? 'ts DESC, seq DESC, idx DESC' : 'ts, seq, idx'}
      LIMIT $4`,
    [
      q.deviceId ?? null,
      q.fromMs,
      q.toMs,
      q.limit,
      q.after?.[0] ?? null,
      q.after?.[1] ?? null,
      q.after?.[2] ?? null,
      q.shipmentId ?? null,
    ],
  );
  return res.rows.map((r) => ({
    tsMs: Math.round(r.ts_ms as number),
    seq: r.seq as number,
    idx: r.idx as number,
    position: omitNull({
      ts: new Date(Math.round(r.ts_ms)).toISOString(),
      lat: r.lat,
      lon: r.lon,
      altM: r.alt_m,
      speedKmh: r.speed_kmh,
      headingDeg: r.heading_deg,
      hdop: r.hdop,
      satellites: r.satellites,
      batteryPct: r.battery_pct,
      temperatureC: r.temperature_c,
      lightLux: r.light_lux,
      tamper: r.tamper,
      seq: r.seq,
      receivedAt: (r.received_at as Date).toISOString(),
      shipmentId: r.shipment_id,
      flags: r.flags,
    }) as Position,
  }));
}

export const shipmentPositions = (db: Pool, q: Omit<PositionQuery, 'deviceId'> & { shipmentId: string }) =>
  listPositions(db, q);

/** A shipment's track for display: at most `maxPoints` fixes, evenly thinned, in time order, within its span. */
export async function shipmentTrack(db: Pool, shipmentId: string, maxPoints: number) {
  const span = await shipmentSpan(db, shipmentId);
  if (!span) return [];
  const res = await db.query(
    `WITH t AS (SELECT ts, lat, lon, row_number() OVER (ORDER BY ts, seq, idx) AS n, count(*) OVER () AS total
                  FROM telemetry
                 WHERE shipment_id = $1 AND ts BETWEEN to_timestamp($3 / 1000.0) AND to_timestamp($4 / 1000.0))
     SELECT ts, lat, lon FROM t
      WHERE total <= $2 OR n % ceil(total::float8 / $2)::bigint = 0 OR n = 1 OR n = total ORDER BY ts`,
    [shipmentId, maxPoints, span.fromMs - 1, span.toMs + 1],
  );
  return res.rows.map((r) => ({
    ts: (r.ts as Date).toISOString(),
    lat: r.lat as number,
    lon: r.lon as number,
  }));
}

/** A refused message as the API shows it. */
export interface RejectionItem {
  id: string;
  receivedAt: string;
  topic: string;
  deviceId?: string;
  siteId?: string;
  reason: string;
  detail: string;
  authenticated: boolean;
  kid?: string;
  seq?: number;
  rawSize: number;
  rawBase64?: string;
}

export interface RejectionQuery {
  deviceId?: string;
  siteId?: string;
  reason?: string;
  fromMs: number;
  toMs: number;
  limit: number;
  includeRaw: boolean;
  before?: [string, number];
}

export async function listRejections(db: Pool, q: RejectionQuery) {
  const res = await db.query(
    `SELECT id, received_at, topic, device_id, site_id, kid, seq, reason, detail, authenticated, raw_size,
            CASE WHEN $9 THEN raw END AS raw
       FROM rejections
      WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR site_id = $2)
        AND ($3::text IS NULL OR reason = $3)
        AND received_at >= to_timestamp($4 / 1000.0) AND received_at < to_timestamp($5 / 1000.0)
        AND ($7::timestamptz IS NULL OR (received_at, id) < ($7::timestamptz, $8::bigint))
      ORDER BY received_at DESC, id DESC
      LIMIT $6`,
    [
      q.deviceId ?? null,
      q.siteId ?? null,
      q.reason ?? null,
      q.fromMs,
      q.toMs,
      q.limit,
      q.before?.[0] ?? null,
      q.before?.[1] ?? null,
      q.includeRaw,
    ],
  );
  return res.rows.map((r) => ({
    cursorKey: [(r.received_at as Date).toISOString(), r.id as number] as [string, number],
    item: omitNull({
      id: String(r.id),
      receivedAt: (r.received_at as Date).toISOString(),
      topic: r.topic,
      deviceId: r.device_id,
      siteId: r.site_id,
      reason: r.reason,
      detail: r.detail,
      authenticated: r.authenticated,
      kid: r.kid,
      seq: r.seq,
      rawSize: r.raw_size,
      rawBase64: r.raw ? (r.raw as Buffer).toString('base64') : null,
    }) as RejectionItem,
  }));
}

export interface DeviceQuery {
  status?: 'active' | 'revoked';
  limit: number;
  afterId?: string;
}

/** Devices in id order with their keys (as `getDevice` shows one). */
export async function listDevices(db: Pool, q: DeviceQuery): Promise<DeviceRow[]> {
  const res = await db.query(
    `SELECT d.id, d.created_at, d.revoked_at,
            coalesce(json_agg(json_build_object('kid', k.kid, 'alg', k.alg, 'createdAt', k.created_at,
                     'revokedAt', k.revoked_at) ORDER BY k.created_at) FILTER (WHERE k.kid IS NOT NULL), '[]') AS keys
       FROM devices d LEFT JOIN device_keys k ON k.device_id = d.id
      WHERE ($1::text IS NULL OR d.id > $1)
        AND ($2::text IS NULL OR ($2 = 'revoked') = (d.revoked_at IS NOT NULL))
      GROUP BY d.id ORDER BY d.id LIMIT $3`,
    [q.afterId ?? null, q.status ?? null, q.limit],
  );
  return res.rows.map((r) => ({ id: r.id, createdAt: r.created_at, revokedAt: r.revoked_at, keys: r.keys }));
}

export interface ZoneQuery {
  tier?: string;
  country?: string;
  limit: number;
  afterId?: string;
}

/** Custom zones in id order. */
export async function listZones(db: Pool, q: ZoneQuery) {
  const res = await db.query(
    `SELECT id, name, tier, country, geometry, created_at FROM zones
      WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR tier = $2) AND ($3::text IS NULL OR country = $3)
      ORDER BY id LIMIT $4`,
    [q.afterId ?? null, q.tier ?? null, q.country ?? null, q.limit],
  );
  return res.rows.map((z) => ({
    id: z.id as string,
    name: z.name as string,
    tier: z.tier as 'restricted' | 'licenseRequired' | 'watch',
    country: z.country as string | null,
    geometry: z.geometry as { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown[] },
    createdAt: (z.created_at as Date).toISOString(),
  }));
}

function omitNull<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}
