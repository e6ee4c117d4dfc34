// An alert's audit trail as a bundle carries it: a hash chain (canonical.ts) that must also start at "opened" and
// end where the alert's status says, so a dropped tail or a forged ending shows.
import type { EvidenceBundle } from './bundle.ts';
import { type AuditEntry, checkAuditChain } from './canonical.ts';

/** The status each last audit action leaves an alert in. */
const STATUS_AFTER: Record<string, string> = {
  opened: 'open',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  auto_resolved: 'resolved',
};

/**
 * An alert's audit trail: rows written before chaining (null hash) only as a prefix, then a chain from the genesis
 * hash; the trail starts with `opened` and its last action matches the alert's status, so a dropped tail or a
 * forged ending shows even when every remaining row hashes correctly.
 */
export function auditProblem(a: EvidenceBundle['alerts'][number]): string | undefined {
  const audit = a.audit ?? [];
  if (audit.length === 0) return 'has no audit trail';
  if (audit.some((r) => r.alertId !== a.id)) return 'has an audit row of another alert';
  const firstChained = audit.findIndex((r) => r.hash !== null && r.hash !== undefined);
  const chained = firstChained < 0 ? [] : audit.slice(firstChained);
  if (chained.some((r) => r.hash === null || r.hash === undefined)) {
    return 'has an audit row without a hash after chained rows';
  }
  const check = checkAuditChain(chained as (AuditEntry & { hash: string })[]);
  if (!check.ok) return `audit row ${firstChained + check.index}: ${check.reason}`;
  if (audit[0]!.action !== 'opened') return 'has an audit trail that does not start with "opened"';
  const last = audit.at(-1)!.action;
  const expected = STATUS_AFTER[last];
  if (expected && expected !== a.status) return `is ${a.status} but its last audit action is ${last}`;
  return undefined;
}
