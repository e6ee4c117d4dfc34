// Canonical JSON and the hashes the evidence is built on. Keys sorted, no whitespace, numbers as JSON.stringify
// writes them (RFC 8785's rules for the values chipwatch stores), so the same value hashes the same on any machine.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError('non-finite number in evidence');
    // undefined (a missing optional field) is written as null, as JSON.stringify does inside arrays.
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The `prev` of an alert's first audit row. */
export const GENESIS_HASH = '0'.repeat(64);

/** One alert-audit row as it is hashed: everything a reader relies on, and the hash of the row before it. */
export interface AuditEntry {
  alertId: string;
  at: string;
  actor: string;
  action: string;
  note: string | null;
  details: unknown;
  prevHash: string;
}

export function auditHash(e: AuditEntry): string {
  return sha256Hex(
    canonicalJson({
      alertId: e.alertId,
      at: e.at,
      actor: e.actor,
      action: e.action,
      note: e.note,
      details: e.details ?? {},
      prevHash: e.prevHash,
    }),
  );
}

export type ChainCheck = { ok: true } | { ok: false; index: number; reason: string };

/** Checks that each row hashes to what it claims and points at the row before it (the first at the genesis). */
export function checkAuditChain(rows: (AuditEntry & { hash: string })[]): ChainCheck {
  let prev = GENESIS_HASH;
  for (const [i, r] of rows.entries()) {
    if (r.prevHash !== prev) return { ok: false, index: i, reason: 'does not follow the row before it' };
    if (auditHash(r) !== r.hash)
      return { ok: false, index: i, reason: 'its content does not match its hash' };
    prev = r.hash;
  }
  return { ok: true };
}
