// The dashboard's overview, counted in the database so the browser never loads thousands of rows: shipments by
// status and risk (the most severe alert not yet resolved), open alerts by severity and age, silent trackers and
// sites, the latest alert lifecycle events, and one page of shipments filtered and searched.
import type { Pool } from './pool.ts';

const RANK = `CASE severity WHEN 'critical' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END`;
const OPEN_BY_SHIPMENT = `SELECT shipment_id, max(${RANK}) AS rank, count(*) AS open_alerts
                            FROM alerts WHERE status <> 'resolved' AND shipment_id IS NOT NULL GROUP BY shipment_id`;

export interface OverviewCounts {
  byStatus: Record<string, number>;
  /** Per shipment status and risk rank (0 none, 1 info, 2 warning, 3 critical). */
  byRisk: { status: string; risk: number; n: number }[];
  /** Alerts not resolved, by severity, status and age class of opened_at (1h, 24h, 7d, older). */
  openAlerts: { severity: string; status: string; age: string; n: number }[];
}

export async function overviewCounts(db: Pool, now: Date): Promise<OverviewCounts> {
  const res = await db.query(
    `SELECT
       (SELECT coalesce(json_object_agg(status, n), '{}') FROM (SELECT status, count(*)::int AS n FROM shipments GROUP BY status) x) AS by_status,
       (SELECT coalesce(json_agg(json_build_object('status', status, 'risk', rank, 'n', n)), '[]')
          FROM (SELECT s.status, coalesce(r.rank, 0) AS rank, count(*)::int AS n
                  FROM shipments s LEFT JOIN (${OPEN_BY_SHIPMENT}) r ON r.shipment_id = s.id GROUP BY 1, 2) y) AS by_risk,
       (SELECT coalesce(json_agg(json_build_object('severity', severity, 'status', status, 'age', age, 'n', n)), '[]')
          FROM (SELECT severity, status,
                       CASE WHEN opened_at > $1::timestamptz - interval '1 hour' THEN '1h'
                            WHEN opened_at > $1::timestamptz - interval '1 day' THEN '24h'
                            WHEN opened_at > $1::timestamptz - interval '7 days' THEN '7d' ELSE 'older' END AS age,
                       count(*)::int AS n
                  FROM alerts WHERE status <> 'resolved' GROUP BY 1, 2, 3) z) AS open_alerts`,
    [now],
  );
  const r = res.rows[0];
  return { byStatus: r.by_status, byRisk: r.by_risk, openAlerts: r.open_alerts };
}

export interface SilentTracker {
  shipmentId: string;
  deviceId: string;
  reference: string | null;
  lastFixAt: string | null;
  reportIntervalS: number;
}

/** In-transit shipments whose tracker missed `intervals` reports; the longest silent first. */
export async function silentTrackers(db: Pool, now: Date, intervals: number, limit: number) {
  const res = await db.query(
    `SELECT id, device_id, reference, last_fix_ts, report_interval_s, count(*) OVER () AS total
       FROM shipments
      WHERE status = 'in_transit'
        AND (last_fix_ts IS NULL OR last_fix_ts < $1::timestamptz - make_interval(secs => $2 * report_interval_s))
      ORDER BY last_fix_ts NULLS FIRST, id LIMIT $3`,
    [now, intervals, limit],
  );
  return {
    total: Number(res.rows[0]?.total ?? 0),
    items: res.rows.map(
      (r): SilentTracker => ({
        shipmentId: r.id,
        deviceId: r.device_id,
        reference: r.reference,
        lastFixAt: r.last_fix_ts ? (r.last_fix_ts as Date).toISOString() : null,
        reportIntervalS: r.report_interval_s,
      }),
    ),
  };
}

/** Registered sites that have not attested for their silence limit (their own, else `afterS`). */
export async function silentSites(db: Pool, now: Date, afterS: number, limit: number) {
  const res = await db.query(
    `SELECT id, name, last_attested_at, count(*) OVER () AS total
       FROM sites
      WHERE revoked_at IS NULL
        AND (last_attested_at IS NULL OR last_attested_at <
             $1::timestamptz - make_interval(secs => coalesce((params->>'siteSilentAfterS')::float8, $2)))
      ORDER BY last_attested_at NULLS FIRST, id LIMIT $3`,
    [now, afterS, limit],
  );
  return {
    total: Number(res.rows[0]?.total ?? 0),
    items: res.rows.map((r) => ({
      siteId: r.id as string,
      name: r.name as string,
      lastAttestedAt: r.last_attested_at ? (r.last_attested_at as Date).toISOString() : null,
    })),
  };
}

/** The newest alert lifecycle events (opened, acknowledged, resolved…), with who, the note and the alert. */
export async function latestAlertEvents(db: Pool, limit: number) {
  const res = await db.query(
    `SELECT au.at, au.actor, au.action, au.note, a.id, a.type, a.severity, a.status, a.shipment_id, a.site_id,
            a.device_id, a.details
       FROM alert_audit au JOIN alerts a ON a.id = au.alert_id
      ORDER BY au.id DESC LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => ({
    at: (r.at as Date).toISOString(),
    actor: r.actor as string,
    action: r.action as string,
    note: r.note as string | null,
    alert: {
      id: String(r.id),
      type: r.type as string,
      severity: r.severity as string,
      status: r.status as string,
      shipmentId: r.shipment_id as string | null,
      siteId: r.site_id as string | null,
      deviceId: r.device_id as string | null,
      details: r.details as Record<string, unknown>,
    },
  }));
}

export interface OverviewShipmentQuery {
  /** Matched anywhere in the id, reference, tracker id or customer, case-insensitively. */
  q?: string | undefined;
  status?: string | undefined;
  /** 0 none … 3 critical. */
  risk?: number | undefined;
  /** ISO alpha-2: named by one of the shipment's alerts (a country entered, stopped in, headed for). */
  country?: string | undefined;
  limit: number;
  offset: number;
}

/** One page of shipments, most at risk first, each with its worst alert not yet resolved; and how many match. */
export async function overviewShipments(db: Pool, f: OverviewShipmentQuery) {
  const like = f.q ? `%${f.q.replace(/[\\%_]/g, '\\$&')}%` : null;
  const res = await db.query(
    `WITH r AS (${OPEN_BY_SHIPMENT}),
          top AS (SELECT DISTINCT ON (shipment_id) shipment_id, id, type, severity, status, details
                    FROM alerts WHERE status <> 'resolved' AND shipment_id IS NOT NULL
                   ORDER BY shipment_id, ${RANK} DESC, id DESC)
     SELECT s.id, s.reference, s.customer, s.device_id, s.mode, s.status, s.last_fix_ts, s.last_lat, s.last_lon,
            s.progress_km, s.route_length_km, s.origin, s.destination,
            coalesce(r.rank, 0) AS risk, coalesce(r.open_alerts, 0)::int AS open_alerts,
            top.id AS top_id, top.type AS top_type, top.severity AS top_severity, top.status AS top_status,
            top.details AS top_details, count(*) OVER () AS total
       FROM shipments s LEFT JOIN r ON r.shipment_id = s.id LEFT JOIN top ON top.shipment_id = s.id
      WHERE ($1::text IS NULL OR s.id ILIKE $1 OR s.reference ILIKE $1 OR s.device_id ILIKE $1 OR s.customer ILIKE $1)
        AND ($2::text IS NULL OR s.status = $2)
        AND ($3::int IS NULL OR coalesce(r.rank, 0) = $3)
        AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM alerts a WHERE a.shipment_id = s.id
                                          AND (a.details->>'country' = $4 OR a.details->>'zoneId' = $4)))
      ORDER BY coalesce(r.rank, 0) DESC, s.last_fix_ts DESC NULLS LAST, s.id
      LIMIT $5 OFFSET $6`,
    [like, f.status ?? null, f.risk ?? null, f.country ?? null, f.limit, f.offset],
  );
  return {
    total: Number(res.rows[0]?.total ?? 0),
    items: res.rows.map((r) => ({
      id: r.id as string,
      reference: r.reference as string | null,
      customer: r.customer as string | null,
      deviceId: r.device_id as string,
      mode: r.mode as string,
      status: r.status as string,
      risk: ['none', 'info', 'warning', 'critical'][r.risk as number] ?? 'none',
      openAlerts: r.open_alerts as number,
      lastPosition: r.last_fix_ts
        ? { ts: (r.last_fix_ts as Date).toISOString(), lat: r.last_lat as number, lon: r.last_lon as number }
        : null,
      progressPercent:
        r.progress_km !== null && r.route_length_km > 0
          ? Math.min(100, Math.round((r.progress_km / r.route_length_km) * 1000) / 10)
          : null,
      origin: r.origin as { name?: string },
      destination: r.destination as { name?: string; siteId?: string },
      worstAlert: r.top_id
        ? {
            id: String(r.top_id),
            type: r.top_type as string,
            severity: r.top_severity as string,
            status: r.top_status as string,
            shipmentId: r.id as string,
            details: r.top_details as Record<string, unknown>,
          }
        : null,
    })),
  };
}
