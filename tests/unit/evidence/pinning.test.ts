// verify-evidence cannot be fooled: never VERIFIED without a pinned key, exit codes per verdict, a dropped message
// shows even re-sealed with the right key, duplicate member names refused. Real Ed25519 and ES256 keys throughout.
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import { sealBundle, type UnsignedBundle } from '../../../src/evidence/bundle.ts';
import { EXIT_CODES, verifyEvidenceCommand } from '../../../src/evidence/command.ts';
import { completeness } from '../../../src/evidence/completeness.ts';
import { formatReport } from '../../../src/evidence/report.ts';
import { verifyBundle, verifyBundleText } from '../../../src/evidence/verify.ts';
import { bundle, DEVICE_KEY, FORGER_KEY, SEAL_KEY, T0 } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'cw-verify-'));
let n = 0;
const file = (content: string | Buffer) => {
  const path = join(dir, `f${n++}.json`);
  writeFileSync(path, content);
  return path;
};
/** The bundle as chipwatch will write it: with its completeness section. */
const stated = (u: UnsignedBundle): UnsignedBundle => ({
  ...u,
  completeness: completeness(u.messages, u.shipment.reportIntervalS),
});
const genuine = () => JSON.stringify(sealBundle(stated(bundle()), SEAL_KEY), null, 2);

describe('verify-evidence pinning and exit codes', () => {
  it('unpinned: exit code 2, and neither the text nor the JSON output contains "VERIFIED"', async () => {
    const path = file(genuine());
    const text = await verifyEvidenceCommand(path, {});
    expect(text.exitCode).toBe(2);
    expect(text.stdout).not.toContain('VERIFIED');
    expect(text.stdout).toMatch(/Verdict: UNPINNED/);
    expect(text.stdout).toContain('Pin the key from GET /v1/evidence/key with --key');
    const json = await verifyEvidenceCommand(path, { json: true });
    expect(json.exitCode).toBe(2);
    expect(json.stdout).not.toContain('VERIFIED');
    expect(JSON.parse(json.stdout).verdict).toBe('UNPINNED');
  });

  it('a bundle forged and re-sealed with another key: UNPINNED without a pin, FAILED against the pinned key', async () => {
    const forged = bundle();
    forged.shipment.status = 'installed';
    forged.alerts = [];
    const path = file(JSON.stringify(sealBundle(stated(forged), FORGER_KEY)));
    const unpinned = await verifyEvidenceCommand(path, {});
    expect(unpinned.exitCode).toBe(EXIT_CODES.UNPINNED);
    expect(unpinned.stdout).not.toContain('VERIFIED');
    const pinned = await verifyEvidenceCommand(path, { key: SEAL_KEY.fingerprint });
    expect(pinned.exitCode).toBe(1);
    expect(pinned.stdout).toMatch(/Verdict: FAILED/);
    expect(pinned.stdout).toContain(`seal: signed by key ${FORGER_KEY.fingerprint}, not by the pinned`);
    expect(pinned.stdout).not.toContain('VERIFIED');
  });

  it('the genuine bundle against its pinned key: VERIFIED, exit 0, pinned by fingerprint or key file', async () => {
    const path = file(genuine());
    const byFingerprint = await verifyEvidenceCommand(path, { key: SEAL_KEY.fingerprint.toUpperCase() });
    expect(byFingerprint.exitCode).toBe(0);
    expect(byFingerprint.stdout).toMatch(/Verdict: VERIFIED/);
    const pem = createPublicKey(SEAL_KEY.privateKey).export({ format: 'pem', type: 'spki' }).toString();
    const apiAnswer = JSON.stringify({
      alg: 'EdDSA',
      fingerprint: SEAL_KEY.fingerprint,
      publicJwk: SEAL_KEY.publicJwk,
    });
    for (const keyText of [pem, JSON.stringify(SEAL_KEY.publicJwk), apiAnswer]) {
      const r = await verifyEvidenceCommand(path, { keyFile: file(keyText) });
      expect(r.exitCode, keyText).toBe(0);
    }
    const forgerJwk = await verifyEvidenceCommand(path, {
      keyFile: file(JSON.stringify(FORGER_KEY.publicJwk)),
    });
    expect(forgerJwk.exitCode).toBe(1);
  });

  it('usage and I/O errors exit 3 and print no verdict', async () => {
    const path = file(genuine());
    const cases = [
      verifyEvidenceCommand(join(dir, 'absent.json'), { key: SEAL_KEY.fingerprint }),
      verifyEvidenceCommand(path, { key: 'abc123' }),
      verifyEvidenceCommand(path, {
        key: SEAL_KEY.fingerprint,
        keyFile: file(JSON.stringify(SEAL_KEY.publicJwk)),
      }),
      verifyEvidenceCommand(path, { keyFile: join(dir, 'absent-key.pem') }),
      verifyEvidenceCommand(path, { keyFile: file('{"kty":"EC","crv":"P-256","x":"a","y":"b"}') }),
      // An API answer whose fingerprint is not its key's: someone edited it.
      verifyEvidenceCommand(path, {
        keyFile: file(JSON.stringify({ fingerprint: FORGER_KEY.fingerprint, publicJwk: SEAL_KEY.publicJwk })),
      }),
    ];
    for (const r of await Promise.all(cases)) {
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^chipwatch verify-evidence: /);
    }
  });

  it('the real command line: unpinned exits 2 without "VERIFIED", a bad option exits 3', async () => {
    const run = promisify(execFile);
    const path = file(genuine());
    const unpinned = await run('npx', ['tsx', 'src/cli.ts', 'verify-evidence', path]).catch((e) => e);
    expect(unpinned.code).toBe(2);
    expect(unpinned.stdout).toMatch(/Verdict: UNPINNED/);
    expect(unpinned.stdout).not.toContain('VERIFIED');
    const pinned = await run('npx', [
      'tsx',
      'src/cli.ts',
      'verify-evidence',
      path,
      '--key',
      SEAL_KEY.fingerprint,
    ]);
    expect(pinned.stdout).toMatch(/Verdict: VERIFIED/);
    const usage = await run('npx', ['tsx', 'src/cli.ts', 'verify-evidence', path, '--pin', 'x']).catch(
      (e) => e,
    );
    expect(usage.code).toBe(3);
  }, 60_000);
});

describe('verify-evidence completeness', () => {
  const pin = { pinnedKey: SEAL_KEY.fingerprint };

  it('a bundle with one message removed and re-sealed with the right key reports the missing seq', () => {
    const u = bundle({ seqs: [0, 1, 2, 3, 4] });
    u.messages.splice(2, 1); // seq 2
    const r = verifyBundle(sealBundle(stated(u), SEAL_KEY), pin);
    expect(r.problems).toEqual([]);
    expect(r.completeness.stated).toBe(true);
    expect(r.completeness.senders[0]).toMatchObject({
      sender: 'device',
      id: 'trk-1',
      seq: { first: 0, last: 4 },
      missing: [{ from: 2, to: 2 }],
      missingCount: 1,
    });
    const text = formatReport(r);
    expect(text).toMatch(/device trk-1: seqs 0–4, 4 message\(s\), missing seq 2 \(1 in all\)/);
    expect(text).toMatch(/the bundle lacks 1 message\(s\) inside its senders' seq ranges/);
  });

  it('a message removed but the stated completeness left as it was: FAILED', () => {
    const u = stated(bundle({ seqs: [0, 1, 2, 3, 4] }));
    u.messages.splice(2, 1);
    const r = verifyBundle(sealBundle(u, SEAL_KEY), pin);
    expect(r.verdict).toBe('FAILED');
    expect(r.problems).toEqual([
      "completeness: the bundle's stated completeness disagrees with its messages (device trk-1: messages, missing, missingCount differ from the messages)",
    ]);
  });

  it('a stated completeness that hides a missing seq or a gap is refused', () => {
    const u = stated(bundle({ seqs: [0, 1, 3], spacingMs: 5 * 3_600_000 }));
    const sender = u.completeness!.senders[0]!;
    expect(sender.gaps).toHaveLength(2);
    sender.missing = [];
    sender.missingCount = 0;
    sender.gaps = [];
    const r = verifyBundle(sealBundle(u, SEAL_KEY), pin);
    expect(r.verdict).toBe('FAILED');
    expect(r.problems[0]).toMatch(/device trk-1: missing, missingCount, gaps differ from the messages/);
  });

  it('a bundle without a completeness section still verifies, with a warning and the computed completeness', () => {
    const u = bundle({ seqs: [0, 1, 3] });
    const r = verifyBundle(sealBundle(u, SEAL_KEY), pin);
    expect(r.verdict).toBe('VERIFIED');
    expect(r.warnings).toEqual([
      'completeness: the bundle does not state its completeness; shown as computed from its verified messages',
    ]);
    expect(r.completeness).toMatchObject({ stated: false, senders: [{ missing: [{ from: 2, to: 2 }] }] });
    expect(formatReport(r)).toMatch(/Warning: completeness: the bundle does not state/);
  });

  it('a message whose signature fails does not count as present', () => {
    const u = stated(bundle({ seqs: [0, 1, 2] }));
    const parts = u.messages[1]!.jws.split('.');
    u.messages[1]!.jws = `${parts[0]}.${parts[1]}.${'A'.repeat(86)}`;
    const r = verifyBundle(sealBundle(u, SEAL_KEY), pin);
    expect(r.completeness.senders[0]!.missing).toEqual([{ from: 1, to: 1 }]);
    expect(r.problems).toContain(
      'message 1 (telemetry, chipwatch/v1/devices/trk-1/telemetry): the signature does not verify',
    );
  });

  it('an ES256 tracker key verifies the same way', () => {
    const es = generateDeviceKey('ES256');
    const r = verifyBundle(sealBundle(stated(bundle({ key: es })), SEAL_KEY), pin);
    expect(r.problems).toEqual([]);
    expect(r.verdict).toBe('VERIFIED');
  });
});

describe('verify-evidence duplicate member names', () => {
  const pin = { pinnedKey: SEAL_KEY.fingerprint };

  it('the genuine text verifies; the same text with a duplicate top-level member is refused', async () => {
    const text = genuine();
    expect(verifyBundleText(text, pin).verdict).toBe('VERIFIED');
    // JSON.parse keeps the last "shipment" (the sealed one) and would verify; a first-wins reader sees the forgery.
    const forged = text.replace('{\n', '{\n  "shipment": {"id": "shp-forged"},\n');
    expect(verifyBundle(JSON.parse(forged), pin).verdict).toBe('VERIFIED');
    const r = verifyBundleText(forged, pin);
    expect(r.verdict).toBe('FAILED');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^json: duplicate member name "shipment" at \$\.shipment/);
    const cmd = await verifyEvidenceCommand(file(forged), { key: SEAL_KEY.fingerprint });
    expect(cmd.exitCode).toBe(1);
    expect(cmd.stdout).not.toContain('VERIFIED');
  });

  it('a duplicate member nested in a message or an audit row is refused with its path', () => {
    const text = genuine();
    const inMessage = text.replace('"kind": "telemetry",', '"kind": "attestation", "kind": "telemetry",');
    expect(verifyBundleText(inMessage, pin).problems[0]).toMatch(
      /duplicate member name "kind" at \$\.messages\[0\]\.kind/,
    );
    const inAudit = text.replace('"action": "opened"', '"action": "resolved", "action": "opened"');
    expect(verifyBundleText(inAudit, pin).problems[0]).toMatch(/at \$\.alerts\[0\]\.audit\[0\]\.action/);
  });

  it('a duplicate member inside a signed payload fails that message', () => {
    const u = bundle();
    const payload = JSON.stringify(buildTelemetry('trk-1', 1, [{ ts: T0, lat: 1, lon: 2 }], T0)).replace(
      '"seq":1,',
      '"seq":9,"seq":1,',
    );
    u.messages[1]!.jws = signCompactJws(payload, DEVICE_KEY);
    const r = verifyBundle(sealBundle(stated(u), SEAL_KEY), pin);
    expect(r.verdict).toBe('FAILED');
    expect(r.problems).toContainEqual(
      expect.stringMatching(
        /^message 1 .*: the JWS payload is not strict JSON \(duplicate member name "seq"/,
      ),
    );
  });

  it('bytes that are not UTF-8 are refused', async () => {
    const bytes = Buffer.concat([
      Buffer.from(genuine().slice(0, 20)),
      Buffer.from([0xff]),
      Buffer.from(genuine().slice(20)),
    ]);
    const r = await verifyEvidenceCommand(file(bytes), { key: SEAL_KEY.fingerprint });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/json: the bundle is not valid UTF-8/);
  });
});
