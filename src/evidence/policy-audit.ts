// The policy a shipment is checked against, as evidence: the policy file's version, the shipment's overrides, its
// cited licences, and the audit of every grant, change, revocation and citation — one hash chain per subject
// (`licence:<id>`, `shipment:<id>`), each row hashing its canonical JSON with the hash of the row before it.
import type { LicenceRecord } from '../domain/licences.ts';
import type { Policy } from '../geo/policy.ts';
import { type ChainCheck, canonicalJson, GENESIS_HASH, sha256Hex } from './canonical.ts';

export type PolicyAuditAction =
  | 'granted'
  | 'changed'
  | 'revoked'
  | 'cited'
  | 'uncited'
  | 'registered'
  | 'policy_changed'
  | 'window_reset';

/** One policy-audit row as it is hashed. */
export interface PolicyAuditEntry {
  subject: string;
  at: string;
  actor: string;
  role: string;
  action: PolicyAuditAction;
  reason: string | null;
  details: unknown;
  prevHash: string;
}

export type PolicyAuditRow = PolicyAuditEntry & { hash: string };

export function policyAuditHash(e: PolicyAuditEntry): string {
  return sha256Hex(
    canonicalJson({
      subject: e.subject,
      at: e.at,
      actor: e.actor,
      role: e.role,
      action: e.action,
      reason: e.reason,
      details: e.details ?? {},
      prevHash: e.prevHash,
    }),
  );
}

/** Checks one subject's chain: each row follows the one before it (the first the genesis) and hashes to itself. */
export function checkPolicyChain(rows: PolicyAuditRow[]): ChainCheck {
  let prev = GENESIS_HASH;
  for (const [i, r] of rows.entries()) {
    if (r.subject !== rows[0]!.subject) return { ok: false, index: i, reason: 'belongs to another subject' };
    if (r.prevHash !== prev) return { ok: false, index: i, reason: 'does not follow the row before it' };
    if (policyAuditHash(r) !== r.hash)
      return { ok: false, index: i, reason: 'its content does not match its hash' };
    prev = r.hash;
  }
  return { ok: true };
}

/** The policy file as a bundle names it: its date, its source and a digest of its tiers (its version). */
export interface PolicyVersion {
  checkedAt: string;
  checkedAgainst: string;
  /** sha256 of the canonical JSON of the date and the three tiers' sorted country lists. */
  digest: string;
  restricted: string[];
  licenseRequired: string[];
  watch: string[];
}

export function policyVersion(p: Policy): PolicyVersion {
  const tiers = {
    checkedAt: p.checkedAt,
    restricted: [...p.restricted].sort(),
    licenseRequired: [...p.licenseRequired].sort(),
    watch: [...p.watch].sort(),
  };
  return { ...tiers, checkedAgainst: p.checkedAgainst, digest: sha256Hex(canonicalJson(tiers)) };
}

/** A cited licence as the bundle carries it, with its own audit chain. */
export interface BundleLicence extends Omit<LicenceRecord, 'status'> {
  citedBy: string;
  citedAt: string;
  audit: PolicyAuditRow[];
}

/** The bundle's `policy` section (docs/evidence-format.md). */
export interface BundlePolicy {
  /** The policy file the checks run against when the bundle was made; absent when the caller did not say. */
  file?: PolicyVersion;
  /** What the shipment sets itself; null / absent means the global policy. */
  overrides: {
    restrictedCountries: string[] | null;
    corridorKm: number;
    params: Record<string, unknown>;
    /** Free-text licences (before licence records; only compliance or admin may give them). */
    licenses: { country: string; number: string }[];
  };
  licences: BundleLicence[];
  /** The shipment's policy audit chain: registration, citations, policy changes. */
  audit: PolicyAuditRow[];
}

/**
 * What is wrong with a bundle's policy section, for a verifier: each chain must verify from the genesis, the
 * shipment's start at its registration (when it has one), each licence's at its grant, and a revoked licence's
 * trail must record the revocation. [] when it is sound or absent (bundles before licence records).
 */
export function policyProblems(p: BundlePolicy | undefined): string[] {
  if (!p) return [];
  const problems: string[] = [];
  const chain = (what: string, rows: PolicyAuditRow[], first: PolicyAuditAction) => {
    const check = checkPolicyChain(rows);
    if (!check.ok) problems.push(`policy: ${what} audit row ${check.index}: ${check.reason}`);
    if (rows.length > 0 && rows[0]!.action !== first)
      problems.push(`policy: ${what} audit does not start with "${first}"`);
  };
  chain('shipment', p.audit ?? [], 'registered');
  for (const l of p.licences ?? []) {
    const rows = l.audit ?? [];
    if (rows.length === 0) problems.push(`policy: licence ${l.id} has no audit trail`);
    chain(`licence ${l.id}`, rows, 'granted');
    if (rows.some((r) => r.subject !== `licence:${l.id}`))
      problems.push(`policy: licence ${l.id} carries another subject's audit row`);
    if (l.revokedAt && !rows.some((r) => r.action === 'revoked'))
      problems.push(`policy: licence ${l.id} is revoked but its audit does not say by whom`);
  }
  return problems;
}
