// Signed acks (wire protocol v1, "Acks are signed"): a compact JWS, typ `chipwatch-ack+jws`, EdDSA by chipwatch's
// ack key, whose payload says which seqs of one sender are committed or finally refused: every seq ≤ `seq`, and
// each seq in `sack` (above it). A tracker deletes from its buffer only what a verified ack covers.
import type { KeyObject } from 'node:crypto';
import sodium from 'sodium-native';
import type { SenderKind } from '../domain/messages.ts';

export const ACK_TYP = 'chipwatch-ack+jws';

/** Where the ack key lives in DATA_DIR when ACK_SIGNING_KEY_FILE is not set. */
export const ACK_KEY_FILE = 'ack-signing-key.pem';

export interface AckPayload {
  v: 1;
  deviceId?: string;
  siteId?: string;
  /** Every message with a seq at or below this is committed or finally refused; -1 … none yet. */
  seq: number;
  /** Seqs above `seq` that are committed or finally refused too (a gap below them is still open). */
  sack: number[];
  /** When chipwatch signed the ack, epoch ms. */
  ts: number;
}

export interface AckSigner {
  privateKey: KeyObject;
  /** The key's fingerprint (hex SHA-256 of the raw public key), sent as `kid`. */
  fingerprint: string;
  /**
   * Bench only: set by startChipwatch's in-process `benchmarkOnly.openEdge` (bench/ingest.bench.ts), never by
   * configuration. The ack goes out as its plain JSON payload, unsigned, as before acks were signed, so the bench
   * can measure what signing costs. A tracker's verifyAck refuses such an ack.
   */
  benchmarkOnlyUnsigned?: true;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * A signer's libsodium secret key and encoded JWS header, made once per key: libsodium signs an ack in ~15 µs where
 * node:crypto takes ~34 µs (one ack per message in a fleet reporting every few minutes). Ed25519 is deterministic:
 * the signature is the same bytes either way.
 */
const prepared = new WeakMap<KeyObject, { secretKey: Buffer; header: string }>();

function prepare(key: AckSigner): { secretKey: Buffer; header: string } {
  let p = prepared.get(key.privateKey);
  if (!p) {
    const seed = Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
    const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
    p = { secretKey, header: b64({ alg: 'EdDSA', kid: key.fingerprint, typ: ACK_TYP }) };
    prepared.set(key.privateKey, p);
  }
  return p;
}

/** Raw public keys by their JWK `x`: a tracker verifies every ack against the one pinned key. */
const publicKeys = new Map<string, Buffer>();

function publicKeyOf(jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string }): Buffer | undefined {
  let k = publicKeys.get(jwk.x);
  if (!k) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return undefined;
    k = Buffer.from(jwk.x, 'base64url');
    if (k.length !== sodium.crypto_sign_PUBLICKEYBYTES) return undefined;
    if (publicKeys.size >= 64) publicKeys.clear();
    publicKeys.set(jwk.x, k);
  }
  return k;
}

export function signAck(
  key: AckSigner,
  sender: SenderKind,
  id: string,
  ack: { seq: number; sack: number[] },
  now = Date.now(),
): string {
  const payload: AckPayload = {
    v: 1,
    ...(sender === 'device' ? { deviceId: id } : { siteId: id }),
    seq: ack.seq,
    sack: ack.sack,
    ts: now,
  };
  if (key.benchmarkOnlyUnsigned) return JSON.stringify(payload);
  const { secretKey, header } = prepare(key);
  const input = `${header}.${b64(payload)}`;
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(signature, Buffer.from(input, 'ascii'), secretKey);
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * A tracker's check of an ack (the simulator's, and the reference a firmware vendor follows): the signature by the
 * pinned ack key, the header, and the sender id. Anything else — unsigned, forged, another sender's — is undefined.
 */
export function verifyAck(
  raw: string | Buffer,
  ackPublicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string },
  sender: SenderKind,
  id: string,
): AckPayload | undefined {
  try {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    const parts = text.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    if (header?.alg !== 'EdDSA' || header?.typ !== ACK_TYP) return undefined;
    const key = publicKeyOf(ackPublicJwk);
    const signature = Buffer.from(s, 'base64url');
    if (!key || signature.length !== sodium.crypto_sign_BYTES) return undefined;
    if (!sodium.crypto_sign_verify_detached(signature, Buffer.from(`${h}.${p}`, 'ascii'), key))
      return undefined;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as AckPayload;
    const owner = sender === 'device' ? payload.deviceId : payload.siteId;
    if (
      payload.v !== 1 ||
      owner !== id ||
      !Number.isSafeInteger(payload.seq) ||
      !Array.isArray(payload.sack)
    ) {
      return undefined;
    }
    if (!payload.sack.every((n) => Number.isSafeInteger(n) && n > payload.seq)) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

/** Whether a verified ack covers `seq`. */
export function ackCovers(ack: AckPayload, seq: number): boolean {
  return seq <= ack.seq || ack.sack.includes(seq);
}
