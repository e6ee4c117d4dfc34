// Shared by the vector generator, the vendor signer check and the conformance test: fixed keys from seeds, compact
// JWS by hand (every byte visible), and the vector file shapes. Node only, no chipwatch internals: a vendor reads this
// as a second description of docs/protocol.md.
import { createECDH, createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto';

export type Alg = 'EdDSA' | 'ES256';

export interface PrivateJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  d: string;
}

export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid?: string;
  alg?: Alg;
}

export const b64u = (b: Buffer | string) =>
  (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64url');
export const fromB64u = (s: string) => Buffer.from(s, 'base64url');
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

/** P-256 group order: a seed is reduced below it. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/** A key pair derived from a name, the same on every machine: the vectors' keys are fixed, not generated. */
export function seededPrivateJwk(name: string, alg: Alg): PrivateJwk {
  const seed = sha256(`chipwatch conformance v1 ${name}`);
  if (alg === 'EdDSA') {
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const jwk = key.export({ format: 'jwk' });
    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string, d: jwk.d as string };
  }
  const d = (BigInt(`0x${seed.toString('hex')}`) % (P256_N - 1n)) + 1n;
  const dBytes = Buffer.from(d.toString(16).padStart(64, '0'), 'hex');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(dBytes);
  const pub = ecdh.getPublicKey();
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64u(pub.subarray(1, 33)),
    y: b64u(pub.subarray(33, 65)),
    d: b64u(dBytes),
  };
}

export function privateKeyOf(jwk: PrivateJwk): KeyObject {
  return createPrivateKey({ key: { ...jwk }, format: 'jwk' });
}

export function publicOf(jwk: PrivateJwk): PublicJwk {
  const { d: _d, ...pub } = jwk;
  return pub;
}

/** SHA-256 of the raw Ed25519 public key, hex: the ack key's fingerprint and the `kid` of every ack. */
export const fingerprintOf = (x: string) => sha256(fromB64u(x)).toString('hex');

/** The raw signature over `signingInput` (ASCII): Ed25519's 64 bytes, or ES256 as R‖S (64) or, to show a mistake, DER. */
export function rawSignature(signingInput: string, alg: Alg, key: KeyObject, der = false): Buffer {
  const data = Buffer.from(signingInput, 'ascii');
  if (alg === 'EdDSA') return sign(null, data, key);
  return sign('sha256', data, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
}

export interface JwsParts {
  header: string;
  payload: string;
  headerB64: string;
  payloadB64: string;
  signingInput: string;
  signatureB64: string;
  jws: string;
}

/** Header and payload are JSON texts, signed exactly as given (no re-serialisation). */
export function compactJws(
  header: string,
  payload: string,
  alg: Alg,
  key: KeyObject,
  opts: { der?: boolean; reuse?: (signingInput: string, der: boolean) => string | undefined } = {},
): JwsParts {
  const headerB64 = b64u(header);
  const payloadB64 = b64u(payload);
  const signingInput = `${headerB64}.${payloadB64}`;
  const der = opts.der ?? false;
  // ECDSA signs with a random nonce: a committed ES256 signature that still verifies is kept, so files do not churn.
  const signatureB64 =
    (alg === 'ES256' ? opts.reuse?.(signingInput, der) : undefined) ??
    b64u(rawSignature(signingInput, alg, key, der));
  return {
    header,
    payload,
    headerB64,
    payloadB64,
    signingInput,
    signatureB64,
    jws: `${signingInput}.${signatureB64}`,
  };
}

// ---- vector file shapes (conformance/vectors/*.json) ----

export interface KeysFile {
  description: string;
  ackKey: {
    alg: 'EdDSA';
    privateJwk: PrivateJwk;
    publicJwk: PublicJwk;
    fingerprint: string;
    pkcs8Pem: string;
  };
  devices: { id: string; alg: Alg; kid: string; privateJwk: PrivateJwk; publicJwk: PublicJwk }[];
}

export type Outcome = 'accepted' | 'duplicate' | 'refused';

export interface IngestStep {
  name: string;
  /** Publish `message` on `topic` (QoS 1), or do an API action first. */
  action?: 'revoke';
  /** `device`: with the device's own MQTT credentials; `service`: as chipwatch's service user (after a revoke). */
  publishAs?: 'device' | 'service';
  topic?: string;
  /** The exact payload bytes, as a JSON string (all ASCII unless stated). */
  message?: string;
  expect?: {
    outcome: Outcome;
    code?: string;
    /** The signature verified with the sender's valid key (only then can an ack cover the seq). */
    authenticated?: boolean;
    /** The seq this message is counted under in an ack, when any. */
    seq?: number;
    /** Fixes stored by this step. */
    records: number;
    /** Whether the signed ack after this step covers this message's seq. */
    acked: boolean;
    /** The signed ack chipwatch publishes after this step (null: none is published). */
    ack: { seq: number; sack: number[] } | null;
  };
}

export interface IngestFile {
  description: string;
  topicPrefix: string;
  /** The receiver's clock must be past these times and before `validUntil` (the future-timestamp vector). */
  validUntil: string;
  scenarios: { name: string; description: string; device: string; steps: IngestStep[] }[];
}
