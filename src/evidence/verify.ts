// Offline verification of an evidence bundle (docs/evidence-format.md): strict JSON, digest, seal against a pinned
// key, every message's signature and key validity, audit hash chains, and completeness recomputed from the
// verified messages. The verdict is VERIFIED only when nothing failed AND the seal is by the key the reader pinned:
// a self-consistent bundle sealed by an unpinned key is UNPINNED, because anyone can seal a bundle with a key.
import { isDegenerateEd25519Key } from '../verify/ed25519-order.ts';
import { ATTESTATION_TYP, parseCompactJws, TELEMETRY_TYP, verifySignatureSync } from '../verify/jws.ts';
import { toKeyObject } from '../verify/keys.ts';
import { auditProblem } from './audit-trail.ts';
import { BUNDLE_FORMAT, bundleDigest, type EvidenceBundle } from './bundle.ts';
import { canonicalJson } from './canonical.ts';
import {
  type Completeness,
  completenessOf,
  type Observation,
  observationFromPayload,
  type SenderCompleteness,
} from './completeness.ts';
import { policyProblems } from './policy-audit.ts';
import { checkSeal } from './seal.ts';
import { parseStrictJson } from './strict-json.ts';
import { type EvidenceSummary, type Fix, summarize } from './summary.ts';

/** VERIFIED: intact and sealed by the pinned key. UNPINNED: intact, but no key was pinned. FAILED: a problem. */
export type Verdict = 'VERIFIED' | 'UNPINNED' | 'FAILED';

export interface EvidenceReport {
  verdict: Verdict;
  /** No problem found. Says nothing about who sealed the bundle: read `verdict`. */
  ok: boolean;
  /** Every reason the bundle fails, each naming where. */
  problems: string[];
  /** What a reader should know that does not fail the bundle (a bundle that does not state its completeness). */
  warnings: string[];
  digestOk: boolean;
  /** The fingerprint of the key that sealed the bundle (when its seal verifies), and whether it was the pinned one. */
  seal: { fingerprint: string | null; pinned: boolean };
  messages: { total: number; verified: number };
  auditChains: { alerts: number; verified: number; unchained: number };
  /** Recomputed from the verified messages; `stated`: whether the bundle states it (and it then agreed, or failed). */
  completeness: { stated: boolean; senders: SenderCompleteness[] };
  summary: EvidenceSummary | null;
}

const ownerOfTopic = (topic: string): { kind: 'device' | 'site'; id: string } | undefined => {
  const m = /\/(devices|sites)\/([^/]+)\/(telemetry|attestations)$/.exec(topic);
  return m ? { kind: m[1] === 'devices' ? 'device' : 'site', id: m[2]! } : undefined;
};

const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Fatal: bytes that are not UTF-8 have no single reading (a lenient decoder would replace them). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The bundle file's bytes: UTF-8, then strict JSON (a duplicate member name anywhere fails), then verifyBundle. */
export function verifyBundleBytes(bytes: Uint8Array, opts: { pinnedKey?: string } = {}): EvidenceReport {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return failed('json: the bundle is not valid UTF-8');
  }
  return verifyBundleText(text, opts);
}

/** The bundle file's text: strict JSON first (a duplicate member name anywhere fails), then verifyBundle. */
export function verifyBundleText(text: string, opts: { pinnedKey?: string } = {}): EvidenceReport {
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text);
  } catch (e) {
    return failed(`json: ${(e as Error).message}; a bundle has exactly one reading or none`);
  }
  return verifyBundle(parsed, opts);
}

function failed(problem: string): EvidenceReport {
  const report = emptyReport();
  report.problems.push(problem);
  return report;
}

function emptyReport(): EvidenceReport {
  return {
    verdict: 'FAILED',
    ok: false,
    problems: [],
    warnings: [],
    digestOk: false,
    seal: { fingerprint: null, pinned: false },
    messages: { total: 0, verified: 0 },
    auditChains: { alerts: 0, verified: 0, unchained: 0 },
    completeness: { stated: false, senders: [] },
    summary: null,
  };
}

/** `pinnedKey`: the fingerprint of the chipwatch key the reader trusts (from GET /v1/evidence/key). */
export function verifyBundle(input: unknown, opts: { pinnedKey?: string } = {}): EvidenceReport {
  const report = emptyReport();
  const { problems } = report;
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
    if (opts.pinnedKey !== undefined) {
      const pinned = opts.pinnedKey.toLowerCase();
      report.seal.pinned = FINGERPRINT.test(pinned) && b.seal.fingerprint === pinned;
      if (!report.seal.pinned) {
        problems.push(
          `seal: signed by key ${b.seal.fingerprint}, not by the pinned chipwatch key ${opts.pinnedKey}`,
        );
      }
    }
  }

  const keys = new Map(b.keys.map((k) => [k.kid, k]));
  const fixes: Fix[] = [];
  const observations: Observation[] = [];
  const attesting = new Set<string>();
  const chipsSeen = new Set<string>();
  const citedLandmarks = new Set<string>();
  let attestations = 0;
  report.messages.total = b.messages.length;
  b.messages.forEach((m, i) => {
    const where = `message ${i} (${m?.kind}, ${m?.topic})`;
    try {
      const jws = parseCompactJws(
        Buffer.from(m.jws, 'latin1'),
        m.kind === 'telemetry' ? TELEMETRY_TYP : ATTESTATION_TYP,
      );
      // The header and payload must have one reading too: the ingest read them with JSON.parse (last name wins).
      strictPart(m.jws.split('.')[0]!, 'header');
      const key = keys.get(jws.kid);
      if (!key) throw new Error(`signed with kid "${jws.kid}", which the bundle does not contain`);
      const owner = ownerOfTopic(m.topic);
      const expected = m.kind === 'telemetry' ? 'device' : 'site';
      if (key.owner !== expected || owner?.kind !== expected || owner.id !== key.ownerId) {
        throw new Error(`key "${key.kid}" belongs to ${key.owner} ${key.ownerId}, not to the topic's sender`);
      }
      if (key.alg !== jws.alg)
        throw new Error(`key "${key.kid}" is pinned to ${key.alg}, the message says ${jws.alg}`);
      if (key.alg === 'EdDSA' && isDegenerateEd25519Key(String(key.publicJwk?.x))) {
        throw new Error(
          `key "${key.kid}" is a small-order Ed25519 key, under which forged signatures verify`,
        );
      }
      const received = Date.parse(m.receivedAt);
      if (!(received >= Date.parse(key.registeredAt)))
        throw new Error('received before its key was registered');
      if (key.revokedAt && received >= Date.parse(key.revokedAt))
        throw new Error('received after its key was revoked');
      if (!verifySignatureSync(jws, toKeyObject(key.publicJwk)))
        throw new Error('the signature does not verify');
      const payload = strictPart(m.jws.split('.')[1]!, 'payload') as Record<string, unknown>;
      const claimed = m.kind === 'telemetry' ? payload.deviceId : payload.siteId;
      if (claimed !== key.ownerId) throw new Error(`the payload names ${claimed}, not ${key.ownerId}`);
      const observation = observationFromPayload(m.kind, payload);
      if (!observation) throw new Error('the payload carries no valid seq');
      observations.push(observation);
      if (m.kind === 'telemetry') {
        for (const r of (payload.records as Fix[] | undefined) ?? [])
          fixes.push({ ts: r.ts, lat: r.lat, lon: r.lon });
      } else {
        attestations++;
        attesting.add(payload.siteId as string);
        for (const c of (payload.chips as string[] | undefined) ?? [])
          if (b.shipment.chips.includes(c)) chipsSeen.add(c);
        for (const l of (payload.landmarks as { landmarkId: string }[] | undefined) ?? [])
          citedLandmarks.add(l.landmarkId);
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

  // The policy section's audit chains: an edit in the database before sealing shows here (docs §3.5).
  problems.push(...policyProblems(b.policy));
  checkCompleteness(b, observations, report);
  const carried = new Set((Array.isArray(b.landmarks) ? b.landmarks : []).map((l) => l?.id));
  const uncarried = [...citedLandmarks].filter((id) => !carried.has(id)).sort();
  if (uncarried.length > 0) {
    report.warnings.push(
      `landmarks: attestations cite ${uncarried.join(', ')}, which the bundle does not carry: their RTT bounds cannot be checked`,
    );
  }
  report.summary = summarize(b, fixes, attestations, attesting, chipsSeen);
  report.ok = problems.length === 0;
  report.verdict = !report.ok ? 'FAILED' : report.seal.pinned ? 'VERIFIED' : 'UNPINNED';
  return report;
}

function strictPart(part: string, what: string): unknown {
  try {
    return parseStrictJson(Buffer.from(part, 'base64url').toString('utf8'));
  } catch (e) {
    throw new Error(`the JWS ${what} is not strict JSON (${(e as Error).message})`);
  }
}

/** Recomputes completeness from the verified messages; a stated section must agree with it exactly. */
function checkCompleteness(b: EvidenceBundle, observations: Observation[], report: EvidenceReport): void {
  const intervalS = b.shipment.reportIntervalS;
  if (typeof intervalS !== 'number' || !(intervalS > 0)) {
    report.problems.push('completeness: shipment.reportIntervalS is not a positive number');
    return;
  }
  const computed = completenessOf(observations, intervalS);
  report.completeness = { stated: b.completeness !== undefined, senders: computed.senders };
  if (b.completeness === undefined) {
    report.warnings.push(
      'completeness: the bundle does not state its completeness; shown as computed from its verified messages',
    );
    return;
  }
  const mismatch = completenessMismatch(b.completeness, computed);
  if (mismatch) report.problems.push(`completeness: ${mismatch}`);
}

/** Where a stated section differs from the computed one, or undefined when they agree byte for byte. */
export function completenessMismatch(stated: unknown, computed: Completeness): string | undefined {
  let statedJson: string;
  try {
    statedJson = canonicalJson(stated);
  } catch {
    return 'the stated section is not valid JSON data';
  }
  if (statedJson === canonicalJson(computed)) return undefined;
  const senders = (stated as Partial<Completeness> | null)?.senders;
  if (!Array.isArray(senders)) return 'the stated section has no senders list';
  const name = (s: { sender?: unknown; id?: unknown }) => `${String(s?.sender)} ${String(s?.id)}`;
  const statedBy = new Map(senders.map((s) => [name(s), s]));
  const computedBy = new Map(computed.senders.map((s) => [name(s), s]));
  const diffs: string[] = [];
  for (const [n, c] of computedBy) {
    const s = statedBy.get(n);
    if (!s) diffs.push(`${n} is not stated`);
    else if (canonicalJson(s) !== canonicalJson(c)) {
      const fields = Object.keys(c).filter(
        (k) =>
          canonicalJson((s as unknown as Record<string, unknown>)[k]) !==
          canonicalJson(c[k as keyof typeof c]),
      );
      diffs.push(`${n}: ${fields.join(', ') || 'extra fields'} differ from the messages`);
    }
  }
  for (const n of statedBy.keys())
    if (!computedBy.has(n)) diffs.push(`${n} is stated but has no verified message`);
  return `the bundle's stated completeness disagrees with its messages (${diffs.join('; ') || 'order or extra fields'})`;
}
