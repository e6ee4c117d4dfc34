// Offline verification of evidence bundles, with real keys and signatures: what passes, and each way to fail.
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import { sealBundle } from '../../../src/evidence/bundle.ts';
import { canonicalJson, checkAuditChain } from '../../../src/evidence/canonical.ts';
import { formatReport } from '../../../src/evidence/report.ts';
import { verifyBundle } from '../../../src/evidence/verify.ts';
import { bundle, chain, FORGER_KEY, SEAL_KEY, T0 } from './fixtures.ts';

const other = generateDeviceKey();
const KEY = SEAL_KEY;
const FORGER = FORGER_KEY;

describe('verify-evidence', () => {
  it('a sealed bundle verifies against the pinned key, and the summary reads the verified fixes', () => {
    const r = verifyBundle(sealBundle(bundle(), KEY), { pinnedKey: KEY.fingerprint });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.verdict).toBe('VERIFIED');
    expect(r.messages).toEqual({ total: 3, verified: 3 });
    expect(r.auditChains).toEqual({ alerts: 1, verified: 1, unchained: 0 });
    expect(r.summary).toMatchObject({ fixes: 3, firstFix: new Date(T0).toISOString(), gaps: [] });
    expect(formatReport(r)).toMatch(/Verdict: VERIFIED/);
  });

  it('any changed field breaks the digest', () => {
    const b = sealBundle(bundle(), KEY);
    b.shipment.reference = 'AWB 2';
    const r = verifyBundle(b);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      'digest: the bundle was changed after chipwatch sealed it (sha256 does not match)',
    ]);
  });

  it('a message re-sealed after tampering still fails its signature', () => {
    const u = bundle();
    const jws = u.messages[1]!.jws.split('.');
    const payload = JSON.parse(Buffer.from(jws[1]!, 'base64url').toString());
    payload.records[0].lat = 10;
    u.messages[1]!.jws = [jws[0], Buffer.from(JSON.stringify(payload)).toString('base64url'), jws[2]].join(
      '.',
    );
    const r = verifyBundle(sealBundle(u, KEY));
    expect(r.problems).toEqual([
      'message 1 (telemetry, chipwatch/v1/devices/trk-1/telemetry): the signature does not verify',
    ]);
  });

  it('a message signed by a key the bundle does not hold, or received after its key was revoked', () => {
    const u = bundle();
    u.messages[0]!.jws = signCompactJws(buildTelemetry('trk-1', 0, [{ ts: T0, lat: 1, lon: 1 }]), other);
    u.keys[0]!.revokedAt = new Date(T0 + 2 * 3_600_000).toISOString();
    const r = verifyBundle(sealBundle(u, KEY));
    expect(r.problems).toEqual([
      `message 0 (telemetry, chipwatch/v1/devices/trk-1/telemetry): signed with kid "${other.kid}", which the bundle does not contain`,
      'message 2 (telemetry, chipwatch/v1/devices/trk-1/telemetry): received after its key was revoked',
    ]);
  });

  it('audit rows edited, dropped or reordered break the chain, even re-sealed', () => {
    const edited = bundle();
    edited.alerts[0]!.audit[1]!.note = 'nothing to see';
    expect(verifyBundle(sealBundle(edited, KEY)).problems).toEqual([
      'alert 7 audit row 1: its content does not match its hash',
    ]);
    const dropped = bundle();
    dropped.alerts[0]!.audit.splice(1, 1);
    expect(verifyBundle(sealBundle(dropped, KEY)).problems).toEqual([
      'alert 7 audit row 1: does not follow the row before it',
    ]);
    const swapped = bundle();
    swapped.alerts[0]!.audit.reverse();
    expect(verifyBundle(sealBundle(swapped, KEY)).ok).toBe(false);
  });

  it('canonical JSON sorts keys at every depth and the chain starts at the genesis hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
    expect(checkAuditChain(chain('1', [{ actor: 'x', action: 'opened', note: null }]))).toEqual({ ok: true });
  });

  it('a bundle re-sealed with another key fails against the pinned chipwatch key; an unsealed one fails', () => {
    const forged = bundle();
    forged.shipment.status = 'installed';
    const resealed = sealBundle(forged, FORGER);
    // Consistent in itself, which is why a reader pins the key: without a pin it is never VERIFIED.
    expect(verifyBundle(resealed).ok).toBe(true);
    expect(verifyBundle(resealed).verdict).toBe('UNPINNED');
    const pinned = verifyBundle(resealed, { pinnedKey: KEY.fingerprint });
    expect(pinned.problems).toEqual([
      `seal: signed by key ${FORGER.fingerprint}, not by the pinned chipwatch key ${KEY.fingerprint}`,
    ]);
    const genuine = verifyBundle(sealBundle(bundle(), KEY), { pinnedKey: KEY.fingerprint });
    expect(genuine.ok).toBe(true);
    expect(formatReport(genuine)).toMatch(/Sealed by the pinned chipwatch key/);
    const { seal: _seal, ...unsealed } = sealBundle(bundle(), KEY);
    expect(verifyBundle(unsealed).problems).toEqual(['seal: the bundle carries no seal']);
    const wrongSig = sealBundle(bundle(), KEY);
    wrongSig.seal.signature = FORGER.fingerprint.slice(0, 10) + wrongSig.seal.signature.slice(10);
    expect(verifyBundle(wrongSig).problems).toEqual(['seal: the signature over the digest does not verify']);
  });

  it('a trail cut short, emptied, not starting with "opened", or with a hash removed mid-chain fails', () => {
    const cut = bundle();
    cut.alerts[0]!.audit.pop(); // the alert still says resolved
    expect(verifyBundle(sealBundle(cut, KEY)).problems).toEqual([
      'alert 7 is resolved but its last audit action is acknowledged',
    ]);
    const empty = bundle();
    empty.alerts[0]!.audit = [];
    expect(verifyBundle(sealBundle(empty, KEY)).problems).toEqual(['alert 7 has no audit trail']);
    const unhashed = bundle();
    (unhashed.alerts[0]!.audit[1] as { hash: string | null }).hash = null;
    expect(verifyBundle(sealBundle(unhashed, KEY)).problems).toEqual([
      'alert 7 has an audit row without a hash after chained rows',
    ]);
  });
});
