import { haversineKm } from '../geo/spherical.ts';
import { ATTESTATION_TYP, parseCompactJws, TELEMETRY_TYP, verifySignatureSync } from '../verify/jws.ts';
import { toKeyObject } from '../verify/keys.ts';
import { BUNDLE_FORMAT, bundleDigest, type EvidenceBundle } from './bundle.ts';
import { type AuditEntry, checkAuditChain } from './canonical.ts';
import { checkSeal } from './seal.ts';

export interface Fix {
  ts: number;
  lat: number;
  lon: number;
}

export interface EvidenceReport {
  ok: boolean;
  /** Every reason the bundle fails, each naming where. */
  problems: string[];
  digestOk: boolean;
  /** The fingerprint of the key that sealed the bundle (when its seal verifies), and whether it was the pinned one. */
  seal: { fingerprint: string | null; pinned: boolean };
  messages: { total: number; verified: number };
  auditChains: { alerts: number; verified: number; unchained: number };
  summary: {
    shipmentId: string;
    reference: string | null;
    deviceId: string;
    status: string;
    fixes: number;
    firstFix: string | null;
    lastFix: string | null;
    distanceKm: number;
    fromOriginKm: number | null;
    toDestinationKm: number | null;
    reachedDestination: boolean;
    gaps: { from: string; to: string; hours: number }[];
    attestations: number;
    attestingSites: string[];
    chipsAttested: number;
    chips: number;
    alerts: { id: string; type: string; severity: string; status: string }[];
  } | null;
}

const ownerOfTopic = (topic: string): { kind: 'device' | 'site'; id: string } | undefined => {
  const m = /\/(devices|sites)\/([^/]+)\/(telemetry|attestations)$/.exec(topic);
  return m ? { kind: m[1] === 'devices' ? 'device' : 'site', id: m[2]! } : undefined;
};

/** `pinnedKey`: the fingerprint of the chipwatch key the reader trusts (from GET /v1/evidence/key). */
export function verifyBundle(input: unknown, opts: { pinnedKey?: string } = {}): EvidenceReport {
  const problems: string[] = [];
  const report: EvidenceReport = {
    ok: false,
    problems,
    digestOk: false,
    seal: { fingerprint: null, pinned: false },
    messages: { total: 0, verified: 0 },
    auditChains: { alerts: 0, verified: 0, unchained: 0 },
    summary: null,
  };
  const b = input as EvidenceBundle;
  if (typeof b !== 'object' || b === null || b.format !== BUNDLE_FORMAT) {
    problems.push(`not a ${BUNDLE_FORMAT} bundle`);
    return report;
  }
  if (!Array.isArray(b.messages) || !Array.isArray(b.keys) || !Array.isArray(b.alerts) || !b.shipment) {
    problems.push('the bundle lacks messages, keys, alerts or shipment');
    return report;
  }

  // Digest first: any change anywhere shows here, even where no signature covers it.
  try {
    report.digestOk = bundleDigest(b) === b.digest?.value;
  } catch (e) {
    problems.push(`digest: cannot be computed (${(e as Error).message})`);
  }
  if (!report.digestOk)
    problems.push('digest: the bundle was changed after chipwatch sealed it (sha256 does not match)');
  // The seal: without it anyone could edit a bundle and recompute the digest.
  const sealProblem = b.seal ? checkSeal(String(b.digest?.value), b.seal) : 'the bundle carries no seal';
  if (sealProblem) problems.push(`seal: ${sealProblem}`);
  else {
    report.seal.fingerprint = b.seal.fingerprint;
    if (opts.pinnedKey) {
      report.seal.pinned = b.seal.fingerprint === opts.pinnedKey.toLowerCase();
      if (!report.seal.pinned) {
        problems.push(
          `seal: signed by key ${b.seal.fingerprint}, not by the pinned chipwatch key ${opts.pinnedKey}`,
        );
      }
    }
  }

  const keys = new Map(b.keys.map((k) => [k.kid, k]));
  const fixes: Fix[] = [];
  const attesting = new Set<string>();
  const chipsSeen = new Set<string>();
  let attestations = 0;
  report.messages.total = b.messages.length;
  b.messages.forEach((m, i) => {
    const where = `message ${i} (${m.kind}, ${m.topic})`;
    try {
      const jws = parseCompactJws(
        Buffer.from(m.jws, 'latin1'),
        m.kind === 'telemetry' ? TELEMETRY_TYP : ATTESTATION_TYP,
      );
      const key = keys.get(jws.kid);
      if (!key) throw new Error(`signed with kid "${jws.kid}", which the bundle does not contain`);
      const owner = ownerOfTopic(m.topic);
      const expected = m.kind === 'telemetry' ? 'device' : 'site';
      if (key.owner !== expected || owner?.kind !== expected || owner.id !== key.ownerId) {
        throw new Error(`key "${key.kid}" belongs to ${key.owner} ${key.ownerId}, not to the topic's sender`);
      }
      if (key.alg !== jws.alg)
        throw new Error(`key "${key.kid}" is pinned to ${key.alg}, the message says ${jws.alg}`);
      const received = Date.parse(m.receivedAt);
      if (!(received >= Date.parse(key.registeredAt)))
        throw new Error('received before its key was registered');
      if (key.revokedAt && received >= Date.parse(key.revokedAt))
        throw new Error('received after its key was revoked');
      if (!verifySignatureSync(jws, toKeyObject(key.publicJwk)))
        throw new Error('the signature does not verify');
      const payload = JSON.parse(jws.payload.toString('utf8'));
      const claimed = m.kind === 'telemetry' ? payload.deviceId : payload.siteId;
      if (claimed !== key.ownerId) throw new Error(`the payload names ${claimed}, not ${key.ownerId}`);
      if (m.kind === 'telemetry') {
        for (const r of payload.records ?? []) fixes.push({ ts: r.ts, lat: r.lat, lon: r.lon });
      } else {
        attestations++;
        attesting.add(payload.siteId);
        for (const c of payload.chips ?? []) if (b.shipment.chips.includes(c)) chipsSeen.add(c);
      }
      report.messages.verified++;
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
  });

  for (const a of b.alerts) {
    report.auditChains.alerts++;
    const problem = auditProblem(a);
    if (problem) problems.push(`alert ${a.id} ${problem}`);
    else if ((a.audit ?? []).some((r) => r.hash === null || r.hash === undefined))
      report.auditChains.unchained++;
    else report.auditChains.verified++;
  }

  report.summary = summarize(b, fixes, attestations, attesting, chipsSeen);
  report.ok = problems.length === 0;
  return report;
}

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
function auditProblem(a: EvidenceBundle['alerts'][number]): string | undefined {
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

function summarize(
  b: EvidenceBundle,
  fixes: Fix[],
  attestations: number,
  attesting: Set<string>,
  chipsSeen: Set<string>,
): EvidenceReport['summary'] {
  const sorted = [...fixes].sort((x, y) => x.ts - y.ts);
  let distanceKm = 0;
  const gaps: { from: string; to: string; hours: number }[] = [];
  const gapMs = Math.max(3 * b.shipment.reportIntervalS * 1000, 60 * 60_000);
  for (let i = 1; i < sorted.length; i++) {
    distanceKm += haversineKm(sorted[i - 1]!, sorted[i]!);
    const dt = sorted[i]!.ts - sorted[i - 1]!.ts;
    if (dt > gapMs) {
      gaps.push({
        from: new Date(sorted[i - 1]!.ts).toISOString(),
        to: new Date(sorted[i]!.ts).toISOString(),
        hours: Math.round((dt / 3_600_000) * 10) / 10,
      });
    }
  }
  const origin = b.shipment.origin as { lat?: number; lon?: number } | undefined;
  const dest = b.shipment.destination as { lat?: number; lon?: number; radiusKm?: number } | undefined;
  const first = sorted[0];
  const last = sorted.at(-1);
  const km = (p: Fix | undefined, q: { lat?: number; lon?: number } | undefined) =>
    p && q && typeof q.lat === 'number' && typeof q.lon === 'number'
      ? Math.round(haversineKm(p, { lat: q.lat, lon: q.lon }) * 10) / 10
      : null;
  const toDestinationKm = km(last, dest);
  return {
    shipmentId: b.shipment.id,
    reference: b.shipment.reference,
    deviceId: b.shipment.deviceId,
    status: b.shipment.status,
    fixes: sorted.length,
    firstFix: first ? new Date(first.ts).toISOString() : null,
    lastFix: last ? new Date(last.ts).toISOString() : null,
    distanceKm: Math.round(distanceKm),
    fromOriginKm: km(first, origin),
    toDestinationKm,
    reachedDestination: toDestinationKm !== null && toDestinationKm <= (dest?.radiusKm ?? 25),
    gaps,
    attestations,
    attestingSites: [...attesting].sort(),
    chipsAttested: chipsSeen.size,
    chips: b.shipment.chips.length,
    alerts: b.alerts.map((a) => ({ id: a.id, type: a.type, severity: a.severity, status: a.status })),
  };
}

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
  lines.push(
    `Checked: ${r.messages.verified}/${r.messages.total} signatures, ${r.auditChains.verified}/${r.auditChains.alerts} audit chains` +
      (r.auditChains.unchained ? ` (${r.auditChains.unchained} written before chaining)` : '') +
      `, digest ${r.digestOk ? 'matches' : 'DOES NOT MATCH'}`,
  );
  if (r.seal.fingerprint) {
    lines.push(
      r.seal.pinned
        ? `Sealed by the pinned chipwatch key ${r.seal.fingerprint}`
        : `Sealed by chipwatch key ${r.seal.fingerprint} — not pinned: compare it with GET /v1/evidence/key of the chipwatch you trust, or pass --key`,
    );
  }
  if (r.ok) {
    const critical =
      s?.alerts.filter((a) => a.severity === 'critical' && a.status !== 'resolved').length ?? 0;
    lines.push(
      `Verdict: VERIFIED — the evidence is intact and signed by the registered keys${
        critical > 0 ? `; ${critical} critical alert(s) are not resolved` : ''
      }`,
    );
  } else {
    lines.push(`Verdict: FAILED — ${r.problems.length} problem(s):`);
    for (const p of r.problems.slice(0, 50)) lines.push(`  - ${p}`);
    if (r.problems.length > 50) lines.push(`  … and ${r.problems.length - 50} more`);
  }
  return lines.join('\n');
}
