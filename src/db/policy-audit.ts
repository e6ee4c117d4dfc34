// The policy audit: append-only rows, one hash chain per subject (`licence:<id>`, `shipment:<id>`); hashes computed
// here from src/evidence/policy-audit.ts. A transaction-scoped advisory lock per subject orders concurrent appends.

import { GENESIS_HASH } from '../evidence/canonical.ts';
import { type PolicyAuditEntry, type PolicyAuditRow, policyAuditHash } from '../evidence/policy-audit.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

export const licenceSubject = (id: string) => `licence:${id}`;
export const shipmentSubject = (id: string) => `shipment:${id}`;

/** Appends one row to `subject`'s chain inside the caller's transaction; returns the row with its hashes. */
export async function appendPolicyAudit(
  c: PoolClient,
  e: Omit<PolicyAuditEntry, 'prevHash' | 'at'> & { at?: string },
): Promise<PolicyAuditRow> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`policy_audit:${e.subject}`]);
  const head = await c.query('SELECT hash FROM policy_audit WHERE subject = $1 ORDER BY id DESC LIMIT 1', [
    e.subject,
  ]);
  // Milliseconds, as the row reads back: the hash is over this exact string.
  const at = e.at ?? new Date().toISOString();
  const entry: PolicyAuditEntry = {
    subject: e.subject,
    at,
    actor: e.actor,
    role: e.role,
    action: e.action,
    reason: e.reason,
    details: e.details ?? {},
    prevHash: head.rows[0]?.hash ?? GENESIS_HASH,
  };
  const row = { ...entry, hash: policyAuditHash(entry) };
  await c.query(
    `INSERT INTO policy_audit (subject, at, actor, role, action, reason, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [row.subject, row.at, row.actor, row.role, row.action, row.reason, row.details, row.prevHash, row.hash],
  );
  return row;
}

/** The chains of many subjects in one query, each in order. */
export async function policyAuditTrails(
  db: Queryable,
  subjects: string[],
): Promise<Map<string, PolicyAuditRow[]>> {
  const out = new Map<string, PolicyAuditRow[]>(subjects.map((s) => [s, []]));
  if (subjects.length === 0) return out;
  const res = await db.query(
    `SELECT subject, at, actor, role, action, reason, details, prev_hash, hash FROM policy_audit
      WHERE subject = ANY($1::text[]) ORDER BY subject, id`,
    [subjects],
  );
  for (const r of res.rows) {
    out.get(r.subject)?.push({
      subject: r.subject,
      at: r.at.toISOString(),
      actor: r.actor,
      role: r.role,
      action: r.action,
      reason: r.reason,
      details: r.details,
      prevHash: r.prev_hash,
      hash: r.hash,
    });
  }
  return out;
}
