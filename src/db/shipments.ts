// Shipments: registration, reads, and the rows the ingest batch locks to run checks.

import type { ShipmentState, ShipmentStatus } from '../checks/run.ts';
import type { ShipmentRecord } from '../checks/shipment.ts';
import type { CheckParams } from '../checks/types.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

/**
 * A shipment row with its cited licence ids and the countries those licences cover at this moment (not revoked,
 * now() in [valid_from, valid_to)): read at check time, so a revocation or expiry acts from the next fix on.
 */
const SHIPMENT = `SELECT s.*,
    coalesce((SELECT array_agg(sl.licence_id ORDER BY sl.licence_id) FROM shipment_licences sl
               WHERE sl.shipment_id = s.id), '{}') AS licence_ids,
    coalesce((SELECT array_agg(DISTINCT c ORDER BY c)
                FROM shipment_licences sl JOIN licences l ON l.id = sl.licence_id, unnest(l.countries) AS c
               WHERE sl.shipment_id = s.id AND l.revoked_at IS NULL AND now() >= l.valid_from AND now() < l.valid_to),
             '{}') AS licensed_countries
  FROM shipments s`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function record(r: any): ShipmentRecord {
  return {
    id: r.id,
    reference: r.reference,
    customer: r.customer,
    deviceId: r.device_id,
    mode: r.mode,
    origin: r.origin,
    destination: r.destination,
    route: r.route,
    corridorKm: r.corridor_km,
    reportIntervalS: r.report_interval_s,
    chips: r.chips,
    restrictedCountries: r.restricted_countries,
    licenses: r.licenses,
    licenceIds: r.licence_ids ?? [],
    licensedCountries: r.licensed_countries ?? [],
    plannedStops: r.planned_stops,
    params: r.params,
    status: r.status,
    checkState: r.check_state,
    lastFix: r.last_fix_ts ? { ts: r.last_fix_ts.toISOString(), lat: r.last_lat, lon: r.last_lon } : null,
    progressKm: r.progress_km,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    arrivedAt: r.arrived_at?.toISOString() ?? null,
    installedAt: r.installed_at?.toISOString() ?? null,
  };
}

export type NewShipment = Omit<
  ShipmentRecord,
  | 'status'
  | 'checkState'
  | 'lastFix'
  | 'progressKm'
  | 'createdAt'
  | 'startedAt'
  | 'arrivedAt'
  | 'installedAt'
  | 'licenceIds'
  | 'licensedCountries'
>;

/** 'ok', or why not: the id is taken, or the tracker already rides with an active shipment. */
export async function insertShipment(
  db: Queryable,
  s: NewShipment & { customer?: string | null },
  by: string,
): Promise<'ok' | 'id_taken' | 'device_busy'> {
  try {
    await db.query(
      `INSERT INTO shipments (id, reference, device_id, mode, origin, destination, route, route_length_km, corridor_km,
                              report_interval_s, chips, restricted_countries, licenses, planned_stops, params, created_by,
                              customer)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        s.id,
        s.reference,
        s.deviceId,
        s.mode,
        s.origin,
        s.destination,
        s.route,
        s.route.lengthKm,
        s.corridorKm,
        s.reportIntervalS,
        s.chips,
        s.restrictedCountries,
        JSON.stringify(s.licenses),
        JSON.stringify(s.plannedStops),
        s.params,
        by,
        s.customer ?? null,
      ],
    );
    return 'ok';
  } catch (e) {
    const err = e as { code?: string; constraint?: string };
    if (err.code === '23505')
      return err.constraint === 'shipments_one_active_per_device' ? 'device_busy' : 'id_taken';
    throw e;
  }
}

export async function getShipment(db: Queryable, id: string): Promise<ShipmentRecord | undefined> {
  const res = await db.query(`${SHIPMENT} WHERE s.id = $1`, [id]);
  return res.rows[0] ? record(res.rows[0]) : undefined;
}

export interface ShipmentQuery {
  status?: string | undefined;
  deviceId?: string | undefined;
  mode?: string | undefined;
  customer?: string | undefined;
  /** `id`: id order; `newest`: created_at descending. */
  sort: 'id' | 'newest';
  limit: number;
  /** The previous page's last key: [id] or [createdAt, id]. */
  after?: [string] | [string, string] | undefined;
}

export async function listShipments(db: Queryable, q: ShipmentQuery): Promise<ShipmentRecord[]> {
  const filters = [q.status ?? null, q.deviceId ?? null, q.mode ?? null, q.customer ?? null, q.limit];
  const where = `($1::text IS NULL OR s.status = $1) AND ($2::text IS NULL OR s.device_id = $2)
        AND ($3::text IS NULL OR s.mode = $3) AND ($4::text IS NULL OR s.customer = $4)`;
  const res =
    q.sort === 'newest'
      ? // Compared at the millisecond the cursor carries, so no row sharing that millisecond is skipped.
        await db.query(
          `${SHIPMENT} WHERE ${where}
              AND ($6::timestamptz IS NULL OR (date_trunc('milliseconds', s.created_at), s.id) < ($6::timestamptz, $7::text))
            ORDER BY date_trunc('milliseconds', s.created_at) DESC, s.id DESC LIMIT $5`,
          [...filters, q.after?.[0] ?? null, q.after?.[1] ?? null],
        )
      : await db.query(
          `${SHIPMENT} WHERE ${where} AND ($6::text IS NULL OR s.id > $6) ORDER BY s.id LIMIT $5`,
          [...filters, q.after?.[0] ?? null],
        );
  return res.rows.map(record);
}

/** The active (else the latest arrived) shipment of each device, locked for this batch (id order: no deadlocks). */
export async function lockActiveShipments(
  c: PoolClient,
  deviceIds: string[],
): Promise<Map<string, ShipmentRecord>> {
  if (deviceIds.length === 0) return new Map();
  // Per device its active shipment or, when it has none, its latest arrived one: a shipment that leaves its
  // destination again is checked (and back in transit). The outer status test is rechecked on the locked row.
  const res = await c.query(
    `${SHIPMENT} WHERE s.status IN ('planned', 'in_transit', 'arrived') AND s.id IN (
        SELECT DISTINCT ON (device_id) id FROM shipments
         WHERE device_id = ANY($1::text[]) AND status IN ('planned', 'in_transit', 'arrived')
         ORDER BY device_id, status = 'arrived', arrived_at DESC NULLS LAST, created_at DESC, id DESC)
      ORDER BY s.id FOR UPDATE OF s`,
    [deviceIds],
  );
  return new Map(res.rows.map((r) => [r.device_id as string, record(r)]));
}

export interface ShipmentUpdate {
  id: string;
  status: ShipmentStatus;
  checkState: ShipmentState;
  lastFix: { ts: number; lat: number; lon: number } | null;
  progressKm: number | null;
  startedAt: number | null;
  arrivedAt: number | null;
}

export async function saveShipmentRun(c: PoolClient, u: ShipmentUpdate): Promise<void> {
  await c.query(
    `UPDATE shipments SET status = $2, check_state = $3,
            last_fix_ts = coalesce(to_timestamp($4 / 1000.0), last_fix_ts), last_lat = coalesce($5, last_lat),
            last_lon = coalesce($6, last_lon), progress_km = coalesce($7, progress_km),
            started_at = coalesce(started_at, to_timestamp($8 / 1000.0)), arrived_at = coalesce(arrived_at, to_timestamp($9 / 1000.0))
      WHERE id = $1`,
    [
      u.id,
      u.status,
      u.checkState,
      u.lastFix?.ts ?? null,
      u.lastFix?.lat ?? null,
      u.lastFix?.lon ?? null,
      u.progressKm,
      u.startedAt,
      u.arrivedAt,
    ],
  );
}

/** In-transit shipments silent for `intervals` report intervals with no open SIGNAL_LOST, locked (skipping rows another worker holds). */
export async function lockSilentShipments(
  c: PoolClient,
  intervals: number,
  nowMs: number,
): Promise<ShipmentRecord[]> {
  const res = await c.query(
    `${SHIPMENT}
      WHERE s.status = 'in_transit' AND s.last_fix_ts IS NOT NULL
        AND s.last_fix_ts < to_timestamp($2 / 1000.0)
                          - make_interval(secs => s.report_interval_s * coalesce((s.params->>'gapIntervals')::float8, $1))
        AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.type = 'SIGNAL_LOST' AND a.subject = s.id AND a.status <> 'resolved')
      ORDER BY s.id FOR UPDATE OF s SKIP LOCKED LIMIT 500`,
    [intervals, nowMs],
  );
  return res.rows.map(record);
}

/** The shipment, its row locked for this transaction (a change of its policy). */
export async function lockShipment(c: PoolClient, id: string): Promise<ShipmentRecord | undefined> {
  const res = await c.query(`${SHIPMENT} WHERE s.id = $1 FOR UPDATE OF s`, [id]);
  return res.rows[0] ? record(res.rows[0]) : undefined;
}

/** The fields of a shipment's policy a PATCH may change; the checks read them from the next batch on. */
export interface ShipmentPolicy {
  restrictedCountries: string[] | null;
  corridorKm: number;
  params: Partial<CheckParams>;
  licenses: { country: string; number: string }[];
}

export async function updateShipmentPolicy(c: PoolClient, id: string, p: ShipmentPolicy): Promise<void> {
  await c.query(
    'UPDATE shipments SET restricted_countries = $2, corridor_km = $3, params = $4, licenses = $5 WHERE id = $1',
    [id, p.restrictedCountries, p.corridorKm, p.params, JSON.stringify(p.licenses)],
  );
}
