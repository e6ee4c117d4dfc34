// Alerts: one open alert per (type, subject), updated by repeated evidence; every transition audited.

import { enqueueAlertEvents } from '../delivery/outbox.ts';
import {
  ACCUMULATES_SERIALS,
  type AlertChange,
  type AlertView,
  SEVERITY,
  type SubjectEvent,
} from '../domain/alerts.ts';
import { type AuditEntry, auditHash, GENESIS_HASH } from '../evidence/canonical.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

interface Raise {
  e: SubjectEvent;
  first: number;
  last: number;
  count: number;
}

/** Applies a batch's events in order, merging repeated raises of one alert into one statement. */
export async function applyAlertEvents(c: PoolClient, events: SubjectEvent[]): Promise<AlertChange[]> {
  const changes: AlertChange[] = [];
  const pending = new Map<string, Raise>();
  const flush = async (key: string) => {
    const r = pending.get(key);
    if (!r) return;
    pending.delete(key);
    const change = await raise(c, r);
    changes.push(change);
    // Each outbox row snapshots the alert as this change left it (an alert opened and resolved in one batch
    // notifies "opened" with status open, then "auto_resolved").
    await enqueueAlertEvents(c, [change]);
  };
  for (const e of events) {
    const key = `${e.type}\0${e.subject}`;
    if (e.action === 'raise') {
      const r = pending.get(key);
      if (r) {
        r.count++;
        if (e.at >= r.last) {
          r.last = e.at;
          r.e = ACCUMULATES_SERIALS.has(e.type) ? withSerialsOf(e, r.e) : e;
        } else if (ACCUMULATES_SERIALS.has(e.type)) {
          r.e = withSerialsOf(r.e, e);
        }
        r.first = Math.min(r.first, e.at);
      } else {
        pending.set(key, { e, first: e.at, last: e.at, count: 1 });
      }
    } else {
      await flush(key);
      const res = await c.query(
        `UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = 'chipwatch', resolution = $3
          WHERE type = $1 AND subject = $2 AND status <> 'resolved' RETURNING id`,
        [e.type, e.subject, String(e.details.reason ?? 'condition cleared')],
      );
      for (const row of res.rows) {
        await audit(c, row.id, 'chipwatch', 'auto_resolved', String(e.details.reason ?? ''), e.details);
        const change: AlertChange = { id: row.id, type: e.type, action: 'auto_resolved' };
        changes.push(change);
        await enqueueAlertEvents(c, [change]);
      }
    }
  }
  // Notifications (the outbox rows, written by flush and on resolve) commit with the changes, in this transaction.
  for (const key of [...pending.keys()]) await flush(key);
  return changes;
}

/** `e` with the serials of both events (for the ACCUMULATES_SERIALS types). */
function withSerialsOf(e: SubjectEvent, other: SubjectEvent): SubjectEvent {
  const serials = [
    ...new Set([...((e.details.serials as string[]) ?? []), ...((other.details.serials as string[]) ?? [])]),
  ].sort();
  return { ...e, details: { ...e.details, serials } };
}

async function raise(c: PoolClient, r: Raise): Promise<AlertChange> {
  const { e } = r;
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
                                ELSE '{}'::jsonb END
     RETURNING id, (xmax = 0) AS inserted`,
    [
      e.type,
      SEVERITY[e.type],
      e.subject,
      e.shipmentId,
      e.deviceId,
      e.siteId ?? null,
      r.first,
      r.last,
      r.count,
      e.details,
      ACCUMULATES_SERIALS.has(e.type),
    ],
  );
  const row = res.rows[0] as { id: number; inserted: boolean };
  if (row.inserted) await audit(c, row.id, 'chipwatch', 'opened', null, e.details);
  return { id: row.id, type: e.type, action: row.inserted ? 'opened' : 'updated' };
}

/**
 * Appends one row to the alert's hash-chained audit trail. The caller holds the alert row's lock (INSERT, UPDATE or
 * SELECT … FOR UPDATE in the same transaction), so reading the chain head and appending cannot race.
 */
async function audit(
  c: Queryable,
  alertId: number,
  actor: string,
  action: string,
  note: string | null,
  details: unknown,
) {
  const head = await c.query('SELECT hash FROM alert_audit WHERE alert_id = $1 ORDER BY id DESC LIMIT 1', [
    alertId,
  ]);
  const entry: AuditEntry = {
    alertId: String(alertId),
    // Millisecond time chosen here, not now() in SQL: the hash must cover exactly what is stored.
    at: new Date().toISOString(),
    actor,
    action,
    note,
    details: details ?? {},
    prevHash: head.rows[0]?.hash ?? GENESIS_HASH,
  };
  await c.query(
    'INSERT INTO alert_audit (alert_id, at, actor, action, note, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [alertId, entry.at, actor, action, note, entry.details, entry.prevHash, auditHash(entry)],
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

/** Acknowledge (open → acknowledged) or resolve (open/acknowledged → resolved); returns the state it was in. */
export async function transitionAlert(
  c: PoolClient,
  id: number,
  to: 'acknowledged' | 'resolved',
  actor: string,
  note: string | null,
): Promise<'ok' | 'not_found' | 'conflict'> {
  const cur = await c.query('SELECT status FROM alerts WHERE id = $1 FOR UPDATE', [id]);
  const status = cur.rows[0]?.status as string | undefined;
  if (!status) return 'not_found';
  if (status === 'resolved' || (to === 'acknowledged' && status !== 'open')) return 'conflict';
  if (to === 'acknowledged') {
    await c.query("UPDATE alerts SET status = 'acknowledged' WHERE id = $1", [id]);
  } else {
    await c.query(
      "UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = $2, resolution = $3 WHERE id = $1",
      [id, actor, note],
    );
  }
  await audit(c, id, actor, to, note, {});
  await enqueueAlertEvents(c, [{ id, action: to, actor, note }]);
  return 'ok';
}
