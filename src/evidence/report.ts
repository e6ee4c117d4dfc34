// The verification report as a compliance officer reads it: the shipment's story, what was checked, what the
// bundle covers and what it lacks, and the verdict. The word VERIFIED appears only for the VERIFIED verdict.
import type { SenderCompleteness } from './completeness.ts';
import type { EvidenceReport } from './verify.ts';

/** The report as a compliance officer reads it. */
export function formatReport(r: EvidenceReport): string {
  const lines: string[] = [];
  const s = r.summary;
  if (s) {
    lines.push(
      `Shipment ${s.shipmentId}${s.reference ? ` (${s.reference})` : ''}, tracker ${s.deviceId}, status ${s.status}`,
    );
    lines.push(
      s.fixes === 0
        ? 'Route: no verified position fixes'
        : `Route: ${s.fixes} signed fixes from ${s.firstFix} to ${s.lastFix}, ${s.distanceKm} km travelled` +
            (s.fromOriginKm !== null ? `; first fix ${s.fromOriginKm} km from the origin` : '') +
            (s.toDestinationKm !== null
              ? `; last fix ${s.toDestinationKm} km from the destination (${s.reachedDestination ? 'reached' : 'not reached'})`
              : ''),
    );
    lines.push(
      s.gaps.length === 0
        ? 'Gaps: none longer than 3 report intervals'
        : `Gaps: ${s.gaps.length} — ${s.gaps
            .slice(0, 5)
            .map((g) => `${g.hours} h from ${g.from}`)
            .join('; ')}${s.gaps.length > 5 ? '; …' : ''}`,
    );
    lines.push(
      `Attestations: ${s.attestations} from ${s.attestingSites.join(', ') || 'no site'}; ${s.chipsAttested} of ${s.chips} chips attested`,
    );
    const open = s.alerts.filter((a) => a.status !== 'resolved');
    lines.push(
      s.alerts.length === 0
        ? 'Alerts: none'
        : `Alerts: ${s.alerts.length} (${open.length} not resolved) — ${s.alerts
            .map((a) => `${a.type} [${a.severity}, ${a.status}]`)
            .join('; ')}`,
    );
  }
  lines.push(...formatCompleteness(r));
  lines.push(
    `Checked: ${r.messages.verified}/${r.messages.total} signatures, ${r.auditChains.verified}/${r.auditChains.alerts} audit chains` +
      (r.auditChains.unchained ? ` (${r.auditChains.unchained} written before chaining)` : '') +
      `, digest ${r.digestOk ? 'matches' : 'DOES NOT MATCH'}`,
  );
  if (r.seal.fingerprint) {
    lines.push(
      r.seal.pinned
        ? `Sealed by the pinned chipwatch key ${r.seal.fingerprint}`
        : `Sealed by key ${r.seal.fingerprint} — not pinned: compare it with GET /v1/evidence/key of the chipwatch you trust, and pass --key`,
    );
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  const missing = r.completeness.senders.reduce((n, c) => n + c.missingCount, 0);
  const lacks = missing > 0 ? `; the bundle lacks ${missing} message(s) inside its senders' seq ranges` : '';
  if (r.verdict === 'VERIFIED') {
    const critical =
      s?.alerts.filter((a) => a.severity === 'critical' && a.status !== 'resolved').length ?? 0;
    lines.push(
      `Verdict: VERIFIED — the evidence is intact, signed by the registered keys and sealed by the pinned key${
        critical > 0 ? `; ${critical} critical alert(s) are not resolved` : ''
      }${lacks}`,
    );
  } else if (r.verdict === 'UNPINNED') {
    lines.push(
      `Verdict: UNPINNED — the bundle is self-consistent and its seal is valid, but it was sealed by key ${r.seal.fingerprint}, which you did not pin: anyone can seal a bundle with a key of their own. Pin the key from GET /v1/evidence/key with --key <fingerprint> (or --key-file <file>)${lacks}`,
    );
  } else {
    lines.push(`Verdict: FAILED — ${r.problems.length} problem(s):`);
    for (const p of r.problems.slice(0, 50)) lines.push(`  - ${p}`);
    if (r.problems.length > 50) lines.push(`  … and ${r.problems.length - 50} more`);
  }
  return lines.join('\n');
}

const seqs = (from: number, to: number) => (from === to ? `seq ${from}` : `seqs ${from}–${to}`);
const MAX_RANGES = 20;

function formatSender(c: SenderCompleteness): string {
  const missing =
    c.missingCount === 0
      ? 'none missing'
      : `missing ${c.missing
          .slice(0, MAX_RANGES)
          .map((m) => seqs(m.from, m.to))
          .join(', ')}${c.missing.length > MAX_RANGES ? ', …' : ''} (${c.missingCount} in all)`;
  const dup = c.duplicateSeqs.length
    ? `; seq carried twice: ${c.duplicateSeqs.slice(0, MAX_RANGES).join(', ')}`
    : '';
  const hours = Math.round((c.gapThresholdS / 3600) * 10) / 10;
  const gaps =
    c.gaps.length === 0
      ? `no gap over ${hours} h`
      : `${c.gaps.length} gap(s) over ${hours} h: ${c.gaps
          .slice(0, 5)
          .map((g) => `${Math.round((g.seconds / 3600) * 10) / 10} h from ${g.from}`)
          .join('; ')}${c.gaps.length > 5 ? '; …' : ''}`;
  return `  ${c.sender} ${c.id}: ${seqs(c.seq.first, c.seq.last)}, ${c.messages} message(s), ${missing}${dup}; ${gaps}`;
}

function formatCompleteness(r: EvidenceReport): string[] {
  if (r.completeness.senders.length === 0) return r.summary ? ['Completeness: no verified message'] : [];
  return [
    `Completeness (${r.completeness.stated ? 'stated by the bundle, recomputed from its verified messages' : 'computed from the verified messages: the bundle does not state it'}):`,
    ...r.completeness.senders.map(formatSender),
  ];
}
