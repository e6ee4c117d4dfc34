// Compact JWS (RFC 7515): parse, header rules, signature check. Pure but for the crypto thread pool and the
// Ed25519 worker pool.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Rejection } from '../domain/errors.ts';
import { ed25519Workers } from './ed25519-pool.ts';
import type { SigningAlg } from './keys.ts';

export const TELEMETRY_TYP = 'chipwatch-telemetry+jws';
export const ATTESTATION_TYP = 'chipwatch-attestation+jws';

const ALLOWED_ALGS: ReadonlySet<string> = new Set(['EdDSA', 'ES256']);
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64'] as const;
const B64URL = /^[A-Za-z0-9_-]*$/;
const KID = /^[\x21-\x7e]{1,128}$/;

export interface ParsedJws {
  alg: SigningAlg;
  kid: string;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: Buffer;
  payload: Buffer;
  signature: Buffer;
}

function b64urlDecode(part: string, what: string): Buffer {
  // Node's decoder ignores bad characters; refuse them so one message has exactly one encoding.
  if (!B64URL.test(part) || part.length % 4 === 1)
    throw new Rejection('MALFORMED', `${what} is not base64url`);
  return Buffer.from(part, 'base64url');
}

/** Splits and checks a compact JWS; throws a Rejection with the rule it broke. */
export function parseCompactJws(raw: Buffer, expectedTyp: string): ParsedJws {
  const text = raw.toString('latin1');
  const parts = text.split('.');
  if (parts.length !== 3) throw new Rejection('MALFORMED', `a compact JWS has 3 parts, got ${parts.length}`);
  const [h, p, s] = parts as [string, string, string];
  if (h.length === 0 || s.length === 0) throw new Rejection('MALFORMED', 'empty JWS header or signature');
  const { alg, kid } = checkedHeader(h, expectedTyp);
  const payload = b64urlDecode(p, 'payload');
  if (payload.length === 0) throw new Rejection('MALFORMED', 'empty JWS payload');
  const signature = b64urlDecode(s, 'signature');
  // `header.payload` as received: latin1 maps each byte to one character, so these are the same bytes.
  return { alg, kid, signingInput: raw.subarray(0, h.length + 1 + p.length), payload, signature };
}

/**
 * A sender signs every message under the same protected header, so a header that passed is remembered by its text
 * and typ (the check is a pure function of both). Only headers of ordinary size, at most HEADER_CACHE_MAX of them,
 * emptied when full: a flood of odd headers costs what it did without the cache, and pins no memory.
 */
const HEADER_CACHE_MAX = 4096;
const HEADER_CACHE_MAX_CHARS = 512;
const passedHeaders = new Map<string, { alg: SigningAlg; kid: string }>();

function checkedHeader(h: string, expectedTyp: string): { alg: SigningAlg; kid: string } {
  if (h.length > HEADER_CACHE_MAX_CHARS) return parseHeader(h, expectedTyp);
  const key = `${expectedTyp}\0${h}`;
  let passed = passedHeaders.get(key);
  if (passed === undefined) {
    passed = parseHeader(h, expectedTyp);
    if (passedHeaders.size >= HEADER_CACHE_MAX) passedHeaders.clear();
    passedHeaders.set(key, passed);
  }
  return passed;
}

function parseHeader(h: string, expectedTyp: string): { alg: SigningAlg; kid: string } {
  let header: unknown;
  try {
    header = JSON.parse(b64urlDecode(h, 'header').toString('utf8'));
  } catch (e) {
    if (e instanceof Rejection) throw e;
    throw new Rejection('MALFORMED', 'JWS header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Rejection('MALFORMED', 'JWS header is not a JSON object');
  }
  const hdr = header as Record<string, unknown>;
  const alg = hdr.alg;
  if (typeof alg !== 'string' || !ALLOWED_ALGS.has(alg)) {
    throw new Rejection('ALG_NOT_ALLOWED', `alg ${JSON.stringify(alg) ?? 'missing'} is not EdDSA or ES256`);
  }
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(hdr, name))
      throw new Rejection('HEADER_NOT_ALLOWED', `header "${name}" is not allowed`);
  }
  if (hdr.typ !== expectedTyp) {
    throw new Rejection(
      'HEADER_NOT_ALLOWED',
      `typ must be "${expectedTyp}", got ${JSON.stringify(hdr.typ) ?? 'none'}`,
    );
  }
  const kid = hdr.kid;
  if (typeof kid !== 'string' || kid.length === 0) throw new Rejection('UNKNOWN_KEY', 'header has no kid');
  // A kid is looked up in the database and quoted in rejections and alerts: NUL bytes, lone surrogates or
  // megabytes of it must not get that far.
  if (!KID.test(kid)) throw new Rejection('MALFORMED', 'kid must be 1–128 printable ASCII characters');
  return { alg: alg as SigningAlg, kid };
}

/** Raw 32-byte Ed25519 public keys, derived once per key object (JWK `x` is the raw key in base64url). */
const rawEd25519Keys = new WeakMap<KeyObject, Buffer | null>();

function rawEd25519(key: KeyObject): Buffer | null {
  let raw = rawEd25519Keys.get(key);
  if (raw === undefined) {
    raw = null;
    try {
      if (key.type === 'public' && key.asymmetricKeyType === 'ed25519') {
        const x = key.export({ format: 'jwk' }).x;
        const bytes = typeof x === 'string' ? Buffer.from(x, 'base64url') : undefined;
        if (bytes?.length === 32) raw = bytes;
      }
    } catch {
      raw = null;
    }
    rawEd25519Keys.set(key, raw);
  }
  return raw;
}

/** node:crypto with a callback: the verification runs on libuv's thread pool. */
function verifyOnThreadPool(jws: ParsedJws, key: KeyObject): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (err: Error | null, ok: boolean) => resolve(err ? false : ok);
    try {
      if (jws.alg === 'EdDSA') {
        cryptoVerify(null, jws.signingInput, key, jws.signature, done);
      } else {
        cryptoVerify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature, done);
      }
    } catch {
      resolve(false);
    }
  });
}

/**
 * Verifies the signature off the event loop, so verification uses every core while the event loop keeps reading
 * the broker: EdDSA with libsodium on the Ed25519 worker pool when one runs (VERIFY_WORKERS, started by ingest),
 * otherwise, and always for ES256, node:crypto on libuv's thread pool. A verification the worker pool cannot
 * answer (a worker died, the pool closed) is done by node:crypto. Resolves false on a bad signature; never throws.
 */
/** The same check, synchronous: for offline tools (verify-evidence), never on the ingest path. */
export function verifySignatureSync(jws: ParsedJws, key: KeyObject): boolean {
  if (jws.signature.length !== 64) return false;
  try {
    return jws.alg === 'EdDSA'
      ? cryptoVerify(null, jws.signingInput, key, jws.signature)
      : cryptoVerify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
  } catch {
    return false;
  }
}

export function verifySignature(jws: ParsedJws, key: KeyObject): Promise<boolean> {
  try {
    if (jws.signature.length !== 64) return Promise.resolve(false);
    const pool = jws.alg === 'EdDSA' ? ed25519Workers() : undefined;
    const raw = pool ? rawEd25519(key) : null;
    if (pool && raw) {
      return pool.verify(jws.signingInput, jws.signature, raw).catch(() => verifyOnThreadPool(jws, key));
    }
    return verifyOnThreadPool(jws, key);
  } catch {
    return Promise.resolve(false);
  }
}
