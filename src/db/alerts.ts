// Alerts and their audit trail, in SQL: one operation per function. The lifecycle rules are in src/alerts/rules.ts,
// and src/alerts/apply.ts is the one place that changes alerts (and writes their outbox rows).

import type { AlertStatus, AlertType, AlertView, Severity } from '../domain/alerts.ts';
import type { AuditEntry } from '../evidence/canonical.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

/** One alert's merged evidence of a batch (src/alerts/rules.ts, MergedRaise). */
export interface AlertUpsert {
  type: AlertType;
  severity: Severity;
  subject: string;
  shipmentId: string | null;
  deviceId: string | null;
  siteId: string | null;
  firstEvidenceAtMs: number;
  lastEvidenceAtMs: number;
  count: number;
  details: Record<string, unknown>;
  /** Keep every serial the alert ever named (ACCUMULATES_SERIALS). */
  accumulatesSerials: boolean;
  /** An update notifies (outbox) at most once per this many seconds; 0: every update. */
  notifyEveryS: number;
}

/** Opens the alert, or updates the open one of its (type, subject); `inserted` says which. */
export async function upsertAlert(
  c: PoolClient,
  a: AlertUpsert,
): Promise<{ id: number; inserted: boolean; notify: boolean }> {
  const res = await c.query(
    `INSERT INTO alerts (type, severity, subject, shipment_id, device_id, site_id, first_evidence_at, last_evidence_at, count, details)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($8 / 1000.0), $9, $10)
     ON CONFLICT (type, subject) WHERE status <> 'resolved'
     DO UPDATE SET last_seen_at = now(),
                   last_evidence_at = greatest(alerts.last_evidence_at, EXCLUDED.last_evidence_at),
                   count = alerts.count + EXCLUDED.count,
                   details = (CASE WHEN EXCLUDED.last_evidence_at >= alerts.last_evidence_at THEN EXCLUDED.details ELSE alerts.details END)
                             -- ACCUMULATES_SERIALS types keep every serial ever named in the alert.
                             || CASE WHEN $11 THEN jsonb_build_object('serials',
                                  (SELECT coalesce(jsonb_agg(DISTINCT v ORDER BY v), '[]') FROM jsonb_array_elements(
                                     coalesce(alerts.details->'serials', '[]') || coalesce(EXCLUDED.details->'serials', '[]')) AS v))
                                ELSE '{}'::jsonb END,
                   notified_at = CASE WHEN $12::float8 = 0 OR alerts.notified_at <= now() - make_interval(secs => $12::float8)
                                      THEN now() ELSE alerts.notified_at END
     RETURNING id, (xmax = 0) AS inserted, notified_at = now() AS notify`,
    [
      a.type,
      a.severity,
      a.subject,
      a.shipmentId,
      a.deviceId,
      a.siteId,
      a.firstEvidenceAtMs,
      a.lastEvidenceAtMs,
      a.count,
      a.details,
      a.accumulatesSerials,
      a.notifyEveryS,
    ],
  );
  const row = res.rows[0] as { id: number; inserted: boolean; notify: boolean };
  return { id: row.id, inserted: row.inserted, notify: row.inserted || row.notify };
}

/** Resolves the open alert of (type, subject) as chipwatch, if there is one; returns the ids resolved. */
export async function autoResolveAlert(
  c: PoolClient,
  type: AlertType,
  subject: string,
  resolution: string,
): Promise<number[]> {
  const res = await c.query(
    `UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = 'chipwatch', resolution = $3
      WHERE type = $1 AND subject = $2 AND status <> 'resolved' RETURNING id`,
    [type, subject, resolution],
  );
  return res.rows.map((r) => r.id as number);
}

/** The alert's status, its row locked for this transaction; undefined when there is no such alert. */
export async function lockAlertStatus(c: PoolClient, id: number): Promise<AlertStatus | undefined> {
  const res = await c.query('SELECT status FROM alerts WHERE id = $1 FOR UPDATE', [id]);
  return res.rows[0]?.status as AlertStatus | undefined;
}

export async function acknowledgeAlert(c: PoolClient, id: number): Promise<void> {
  await c.query("UPDATE alerts SET status = 'acknowledged' WHERE id = $1", [id]);
}

/** Resolves the alert as a person: who, and their note as the resolution. */
export async function resolveAlert(
  c: PoolClient,
  id: number,
  actor: string,
  note: string | null,
): Promise<void> {
  await c.query(
    "UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = $2, resolution = $3 WHERE id = $1",
    [id, actor, note],
  );
}

/** The hash at the head of the alert's audit chain; undefined for an empty trail. */
export async function auditHead(c: Queryable, alertId: number): Promise<string | undefined> {
  const res = await c.query('SELECT hash FROM alert_audit WHERE alert_id = $1 ORDER BY id DESC LIMIT 1', [
    alertId,
  ]);
  return res.rows[0]?.hash;
}

/** Appends one row to an audit trail, its hashes computed by the caller. */
export async function insertAudit(c: Queryable, row: AuditRow): Promise<void> {
  await c.query(
    'INSERT INTO alert_audit (alert_id, at, actor, action, note, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [row.alertId, row.at, row.actor, row.action, row.note, row.details, row.prevHash, row.hash],
  );
}

/** A time column as RFC 3339: a Date from a row, or the string `to_jsonb(alerts)` holds (outbox events). */
const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** The API view of an alert row, read from the table or from its JSON copy in the outbox. */
// biome-ignore lint/suspicious/noExplicitAny: a pg row or its JSON
export function alertView(r: any): AlertView {
  return {
    id: String(r.id),
    type: r.type,
    severity: r.severity,
    status: r.status,
    shipmentId: r.shipment_id ?? null,
    deviceId: r.device_id ?? null,
    siteId: r.site_id ?? null,
    openedAt: iso(r.opened_at)!,
    lastSeenAt: iso(r.last_seen_at)!,
    firstEvidenceAt: iso(r.first_evidence_at),
    lastEvidenceAt: iso(r.last_evidence_at),
    count: Number(r.count),
    details: r.details ?? {},
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by ?? null,
    resolution: r.resolution ?? null,
  };
}

export interface AlertQuery {
  status?: string;
  type?: string;
  shipmentId?: string;
  deviceId?: string;
  siteId?: string;
  severity?: string;
  limit: number;
  beforeId?: number;
}

export async function listAlerts(db: Queryable, q: AlertQuery): Promise<AlertView[]> {
  const res = await db.query(
    `SELECT * FROM alerts
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
        AND ($3::text IS NULL OR shipment_id = $3) AND ($4::text IS NULL OR device_id = $4)
        AND ($5::text IS NULL OR severity = $5) AND ($7::bigint IS NULL OR id < $7)
        AND ($8::text IS NULL OR site_id = $8)
      ORDER BY id DESC LIMIT $6`,
    [
      q.status ?? null,
      q.type ?? null,
      q.shipmentId ?? null,
      q.deviceId ?? null,
      q.severity ?? null,
      q.limit,
      q.beforeId ?? null,
      q.siteId ?? null,
    ],
  );
  return res.rows.map(alertView);
}

export interface AuditRow extends AuditEntry {
  hash: string;
}

/** An alert's audit trail in order, each row with its chain hashes (verify-evidence re-checks them). */
export async function auditTrail(db: Queryable, alertId: number): Promise<AuditRow[]> {
  return (await auditTrails(db, [alertId])).get(alertId) ?? [];
}

/** The audit trails of many alerts in one query, by alert id. */
export async function auditTrails(db: Queryable, alertIds: number[]): Promise<Map<number, AuditRow[]>> {
  const out = new Map<number, AuditRow[]>(alertIds.map((id) => [id, []]));
  if (alertIds.length === 0) return out;
  const res = await db.query(
    `SELECT alert_id, at, actor, action, note, details, prev_hash, hash FROM alert_audit
      WHERE alert_id = ANY($1::bigint[]) ORDER BY alert_id, id`,
    [alertIds],
  );
  for (const a of res.rows) {
    out.get(Number(a.alert_id))?.push({
      alertId: String(a.alert_id),
      at: a.at.toISOString(),
      actor: a.actor,
      action: a.action,
      note: a.note,
      details: a.details,
      prevHash: a.prev_hash,
      hash: a.hash,
    });
  }
  return out;
}

export async function getAlert(
  db: Queryable,
  id: number,
): Promise<(AlertView & { audit: AuditRow[] }) | undefined> {
  const res = await db.query('SELECT * FROM alerts WHERE id = $1', [id]);
  if (!res.rows[0]) return undefined;
  return { ...alertView(res.rows[0]), audit: await auditTrail(db, id) };
}
