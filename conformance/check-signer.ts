// Checks a firmware's signer with chipwatch's own verification code (the same functions the ingest runs), offline:
//
//   npx tsx conformance/check-signer.ts --vectors out.json
//       out.json = {"cases": [{"name": "<case name from vectors/signer.json>", "jws": "<your message>"}, …]}, made by
//       your signer from each case's payload and key (keys.json). Checks each message verifies, carries the case's
//       exact payload bytes and header members, and (EdDSA) equals the one right signature.
//   npx tsx conformance/check-signer.ts --jwk my-key.json --device trk-000042 messages.txt
//       your own key (the public JWK with kid you register) and messages, one JWS per line: would chipwatch accept
//       each, and if not, with which code.
//   npx tsx conformance/check-signer.ts --self-test
//       signs the vectors with node:crypto and checks them, and checks that every `mustRefuse` case is refused with
//       its code (what the test suite runs).
//
// Exit status 0 when everything passes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRejection, Rejection } from '../src/domain/errors.ts';
import { parseCompactJws, TELEMETRY_TYP, verifySignatureSync } from '../src/verify/jws.ts';
import { normalizePublicJwk, toKeyObject } from '../src/verify/keys.ts';
import { parseTelemetry } from '../src/verify/telemetry-schema.ts';
import { compactJws, type KeysFile, privateKeyOf } from './lib.ts';
import type { SignerCase } from './signer-vectors.ts';

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), 'vectors');
const MAX_BYTES = 65_536;
const SKEW_MS = 300_000;

export type Verdict = { ok: true } | { ok: false; code: string; detail: string };

/** What chipwatch would say of `jws` on `deviceId`'s telemetry topic, `publicJwk` being its registered key. */
export function checkMessage(jws: string, publicJwk: unknown, deviceId: string, now = Date.now()): Verdict {
  try {
    const raw = Buffer.from(jws, 'latin1');
    if (raw.length > MAX_BYTES)
      throw new Rejection('PAYLOAD_TOO_LARGE', `${raw.length} bytes, the limit is ${MAX_BYTES}`);
    const parsed = parseCompactJws(raw, TELEMETRY_TYP);
    const key = normalizePublicJwk(publicJwk);
    if (parsed.kid !== key.kid)
      throw new Rejection('UNKNOWN_KEY', `kid "${parsed.kid}" is not the key's "${key.kid}"`);
    if (parsed.alg !== key.alg)
      throw new Rejection('ALG_NOT_ALLOWED', `the key is pinned to ${key.alg}, not ${parsed.alg}`);
    if (!verifySignatureSync(parsed, toKeyObject(key))) {
      const der = parsed.signature[0] === 0x30 && parsed.signature.length !== 64;
      throw new Rejection(
        'SIGNATURE_INVALID',
        der ? 'the signature looks like DER: send R‖S (64 bytes)' : 'the signature does not verify',
      );
    }
    const payload = parseTelemetry(parsed.payload, now, SKEW_MS);
    if (payload.deviceId !== deviceId)
      throw new Rejection('SUBJECT_MISMATCH', `payload deviceId "${payload.deviceId}" is not ${deviceId}`);
    return { ok: true };
  } catch (e) {
    if (isRejection(e)) return { ok: false, code: e.code, detail: e.message };
    return { ok: false, code: 'ERROR', detail: String((e as Error)?.message ?? e) };
  }
}

const load = <T>(f: string): T => JSON.parse(readFileSync(join(VECTORS, f), 'utf8')) as T;

interface SignerFile {
  cases: SignerCase[];
  mustRefuse: { name: string; deviceId: string; jws: string; code: string }[];
}

/** Checks a vendor's messages for the signer vectors; one line per problem, empty when all pass. */
export function checkVectorOutput(output: { cases: { name: string; jws: string }[] }): string[] {
  const keys = load<KeysFile>('keys.json');
  const { cases } = load<SignerFile>('signer.json');
  const problems: string[] = [];
  for (const c of cases) {
    const got = output.cases.find((o) => o.name === c.name)?.jws;
    if (got === undefined) {
      problems.push(`${c.name}: no message`);
      continue;
    }
    const dev = keys.devices.find((d) => d.id === c.deviceId)!;
    const v = checkMessage(got, dev.publicJwk, c.deviceId, Date.parse('2025-11-22T00:00:00Z'));
    if (!v.ok) {
      problems.push(`${c.name}: chipwatch would refuse it: ${v.code} (${v.detail})`);
      continue;
    }
    const [h, p, s] = got.split('.') as [string, string, string];
    if (Buffer.from(p, 'base64url').toString('utf8') !== c.payload)
      problems.push(`${c.name}: the payload bytes differ from the case's`);
    const hdr = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    for (const m of ['alg', 'kid', 'typ'] as const) {
      if (hdr[m] !== JSON.parse(c.header)[m])
        problems.push(`${c.name}: header ${m} is ${JSON.stringify(hdr[m])}`);
    }
    if (c.deterministic && h === c.headerB64 && s !== c.signatureB64)
      problems.push(`${c.name}: the Ed25519 signature differs from the only right one`);
  }
  return problems;
}

/** Signs the vectors with node:crypto, checks them, and checks every mustRefuse case gets its code. */
export function selfTest(): string[] {
  const keys = load<KeysFile>('keys.json');
  const file = load<SignerFile>('signer.json');
  const output = file.cases.map((c) => {
    const d = keys.devices.find((x) => x.id === c.deviceId)!;
    return { name: c.name, jws: compactJws(c.header, c.payload, c.alg, privateKeyOf(d.privateJwk)).jws };
  });
  const problems = checkVectorOutput({ cases: output });
  for (const r of file.mustRefuse) {
    const d = keys.devices.find((x) => x.id === r.deviceId)!;
    const v = checkMessage(r.jws, d.publicJwk, r.deviceId, Date.parse('2025-11-22T00:00:00Z'));
    if (v.ok || v.code !== r.code)
      problems.push(`mustRefuse "${r.name}": got ${v.ok ? 'accepted' : v.code}, want ${r.code}`);
  }
  return problems;
}

function main(argv: string[]) {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  let problems: string[];
  if (argv.includes('--self-test')) {
    problems = selfTest();
  } else if (arg('--vectors')) {
    problems = checkVectorOutput(JSON.parse(readFileSync(arg('--vectors')!, 'utf8')));
  } else if (arg('--jwk') && arg('--device')) {
    const jwk = JSON.parse(readFileSync(arg('--jwk')!, 'utf8'));
    const file = argv[argv.length - 1]!;
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    problems = [];
    lines.forEach((line, i) => {
      const v = checkMessage(line, jwk, arg('--device')!);
      console.log(`line ${i + 1}: ${v.ok ? 'accepted' : `${v.code}: ${v.detail}`}`);
      if (!v.ok) problems.push(`line ${i + 1}: ${v.code}`);
    });
  } else {
    console.error(
      'usage: check-signer.ts --vectors out.json | --jwk key.json --device <id> messages.txt | --self-test',
    );
    process.exit(2);
  }
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(problems.length === 0 ? 'PASS' : `${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
