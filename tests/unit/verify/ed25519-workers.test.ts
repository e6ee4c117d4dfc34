// EdDSA verification on the libsodium worker pool (VERIFY_WORKERS), through verifySignature with real keys and
// signatures: the same answers as node:crypto, in order, and none lost or wrongly accepted when a worker dies.
import { spawnSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeviceKey, generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import { acquireEd25519Workers, type Ed25519Pool, ed25519Workers } from '../../../src/verify/ed25519-pool.ts';
import { type ParsedJws, parseCompactJws, TELEMETRY_TYP, verifySignature } from '../../../src/verify/jws.ts';
import { normalizePublicJwk, toKeyObject } from '../../../src/verify/keys.ts';

const keys = Array.from({ length: 5 }, () => generateDeviceKey('EdDSA'));
const keyObject = new Map<DeviceKey, KeyObject>(
  keys.map((k) => [k, toKeyObject(normalizePublicJwk(k.publicJwk))]),
);
const pub = (k: DeviceKey) => keyObject.get(k)!;

function signed(key: DeviceKey, seq: number): ParsedJws {
  const payload = buildTelemetry('trk-w', seq, [{ ts: Date.now(), lat: 22.61, lon: 120.27 }]);
  return parseCompactJws(Buffer.from(signCompactJws(payload, key)), TELEMETRY_TYP);
}

/** The same JWS with one payload byte changed after signing. */
function tampered(jws: ParsedJws): ParsedJws {
  const signingInput = Buffer.from(jws.signingInput);
  const at = signingInput.length - 3;
  signingInput[at] = signingInput[at] === 0x41 ? 0x42 : 0x41;
  return { ...jws, signingInput };
}

type Case = { jws: ParsedJws; key: KeyObject; expected: boolean };

/** 1,000 verifications: valid, tampered, wrong key and wrong-length signatures, interleaved. */
function mixedCases(n = 1000): Case[] {
  return Array.from({ length: n }, (_, i): Case => {
    const k = keys[i % keys.length]!;
    const jws = signed(k, i + 1);
    switch (i % 4) {
      case 0:
        return { jws, key: pub(k), expected: true };
      case 1:
        return { jws: tampered(jws), key: pub(k), expected: false };
      case 2:
        return { jws, key: pub(keys[(i + 1) % keys.length]!), expected: false };
      default:
        return i % 8 === 3
          ? { jws, key: pub(k), expected: true }
          : { jws: { ...jws, signature: jws.signature.subarray(0, 63) }, key: pub(k), expected: false };
    }
  });
}

let handle: ReturnType<typeof acquireEd25519Workers>;
let pool: Ed25519Pool;

beforeAll(() => {
  handle = acquireEd25519Workers(2);
  pool = handle.pool!;
});
afterAll(async () => {
  await handle.release();
});

describe('EdDSA on the sodium-native worker pool', () => {
  it('verifies real signatures: valid, tampered payload, wrong key, wrong signature length', async () => {
    expect(ed25519Workers()).toBe(pool);
    const k = keys[0]!;
    const jws = signed(k, 1);
    const before = pool.stats.verified;
    expect(await verifySignature(jws, pub(k))).toBe(true);
    expect(await verifySignature(tampered(jws), pub(k))).toBe(false);
    expect(await verifySignature(jws, pub(keys[1]!))).toBe(false);
    // Three answers came from the workers, not from node:crypto.
    expect(pool.stats.verified - before).toBe(3);
    expect(await verifySignature({ ...jws, signature: jws.signature.subarray(0, 63) }, pub(k))).toBe(false);
    expect(
      await verifySignature({ ...jws, signature: Buffer.concat([jws.signature, Buffer.alloc(1)]) }, pub(k)),
    ).toBe(false);
    expect(await verifySignature({ ...jws, signature: Buffer.alloc(64) }, pub(k))).toBe(false);
    expect(pool.stats.unavailable).toBe(0);
  });

  it('leaves ES256 to node:crypto', async () => {
    const es = generateDeviceKey('ES256');
    const jws = parseCompactJws(
      Buffer.from(signCompactJws(buildTelemetry('trk-es', 1, [{ ts: Date.now(), lat: 1, lon: 2 }]), es)),
      TELEMETRY_TYP,
    );
    const before = pool.stats.verified;
    expect(await verifySignature(jws, toKeyObject(normalizePublicJwk(es.publicJwk)))).toBe(true);
    expect(await verifySignature(tampered(jws), toKeyObject(normalizePublicJwk(es.publicJwk)))).toBe(false);
    expect(pool.stats.verified).toBe(before);
  });

  it('answers a batch of 1,000 mixed verifications in order, spread over both workers', async () => {
    const cases = mixedCases();
    const [chunks, verified] = [pool.stats.chunks, pool.stats.verified];
    const results = await Promise.all(cases.map((c) => verifySignature(c.jws, c.key)));
    expect(results).toEqual(cases.map((c) => c.expected));
    expect(results.filter(Boolean).length).toBe(cases.filter((c) => c.expected).length);
    // Wrong-length signatures never reach a worker.
    expect(pool.stats.verified - verified).toBe(cases.filter((c) => c.jws.signature.length === 64).length);
    expect(pool.stats.chunks - chunks).toBeGreaterThanOrEqual(2);
    expect(pool.stats.unavailable).toBe(0);
  });

  it('loses no verification when a worker is killed mid-batch, and restarts it', async () => {
    const cases = mixedCases();
    const restarts = pool.stats.restarts;
    const pending = cases.map((c) => verifySignature(c.jws, c.key));
    await null; // the pool posts the tick's verifications to its workers in a microtask
    await pool.terminateWorkerForTest(0);
    const results = await Promise.all(pending);
    expect(results).toEqual(cases.map((c) => c.expected));
    // The killed worker's verifications went to node:crypto; the worker came back.
    expect(pool.stats.unavailable).toBeGreaterThan(0);
    expect(pool.stats.restarts).toBe(restarts + 1);
    expect(pool.live).toBe(2);

    const verified = pool.stats.verified;
    const again = await Promise.all(cases.map((c) => verifySignature(c.jws, c.key)));
    expect(again).toEqual(cases.map((c) => c.expected));
    expect(pool.stats.verified - verified).toBe(cases.filter((c) => c.jws.signature.length === 64).length);
  });

  it('loses none when every worker is killed, nor when the pool closes with verifications pending', async () => {
    const cases = mixedCases(400);
    const first = cases.map((c) => verifySignature(c.jws, c.key));
    await null;
    await Promise.all([pool.terminateWorkerForTest(0), pool.terminateWorkerForTest(1)]);
    expect(await Promise.all(first)).toEqual(cases.map((c) => c.expected));

    const extra = acquireEd25519Workers(1); // shares the running pool
    expect(extra.pool).toBe(pool);
    const second = cases.map((c) => verifySignature(c.jws, c.key));
    await extra.release();
    expect(ed25519Workers()).toBe(pool); // still used by this file's handle
    expect(await Promise.all(second)).toEqual(cases.map((c) => c.expected));
  });

  it('falls back to node:crypto once the last user released the pool', async () => {
    const local = acquireEd25519Workers(1);
    const cases = mixedCases(100);
    const pending = cases.map((c) => verifySignature(c.jws, c.key));
    await handle.release();
    await local.release();
    expect(ed25519Workers()).toBeUndefined();
    expect(await Promise.all(pending)).toEqual(cases.map((c) => c.expected));
    expect(await Promise.all(cases.map((c) => verifySignature(c.jws, c.key)))).toEqual(
      cases.map((c) => c.expected),
    );
    handle = acquireEd25519Workers(2);
    pool = handle.pool!;
    expect(await verifySignature(cases[0]!.jws, cases[0]!.key)).toBe(true);
  });

  it('replaces a worker that hangs without dying; what it held is refused to the caller, who verifies it itself', async () => {
    const { Ed25519Pool } = await import('../../../src/verify/ed25519-pool.ts');
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pk = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const data = Buffer.from('stuck');
    const sig = sign(null, data, privateKey);
    const stuck = new Ed25519Pool(1, { chunkDeadlineMs: 300 });
    try {
      expect(await stuck.verify(data, sig, pk)).toBe(true);
      stuck.stallWorkerForTest(0, 5000);
      await expect(stuck.verify(data, sig, pk)).rejects.toThrow(/no answer within 300 ms/);
      expect(stuck.stats.restarts).toBe(1);
      expect(await stuck.verify(data, sig, pk)).toBe(true);
    } finally {
      await stuck.close();
    }
  });

  it('does not keep a process alive once idle', () => {
    const poolUrl = new URL('../../../src/verify/ed25519-pool.ts', import.meta.url).href;
    const code = `
      import { generateKeyPairSync, sign } from 'node:crypto';
      import { Ed25519Pool } from ${JSON.stringify(poolUrl)};
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const pk = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
      const data = Buffer.from('idle');
      const pool = new Ed25519Pool(2);
      console.log(await pool.verify(data, sign(null, data, privateKey), pk));
      // never closed: the process must still exit
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.stdout.trim()).toBe('true');
    expect(child.status).toBe(0);
  });
});
