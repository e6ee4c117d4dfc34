// Small-order ("degenerate") Ed25519 public keys. For a key whose point has order 1, 2, 4 or 8, [k]A vanishes
// after the cofactor and one signature verifies for every message under node:crypto (OpenSSL does not refuse
// such keys): R = B, s = 1 "signs" anything for the identity key. A verifier must refuse them, whoever
// registered them. Curve arithmetic in BigInt (RFC 8032 §5.1): slow, but a bundle holds a handful of keys.

const P = 2n ** 255n - 19n;
const D = (-121665n * inv(121666n)) % P;
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

type Point = { x: bigint; y: bigint };

/** RFC 8032 §5.1.3; undefined when the 32 bytes encode no curve point. */
export function decodeEd25519Point(bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 32) return undefined;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i]! & 0x7f : bytes[i]!);
  const sign = bytes[31]! >> 7;
  if (y >= P) return undefined;
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) !== mod(-u)) return undefined;
    x = mod(x * SQRT_M1);
  }
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = P - x;
  return { x, y };
}

/** The complete twisted Edwards addition law (a = −1): no exceptional cases on Ed25519. */
function add(p: Point, q: Point): Point {
  const t = mod(D * p.x * q.x * p.y * q.y);
  return {
    x: mod((p.x * q.y + p.y * q.x) * inv(1n + t)),
    y: mod((p.y * q.y + p.x * q.x) * inv(mod(1n - t))),
  };
}

/** Whether `x` (a JWK's base64url raw key) is not a usable Ed25519 key: undecodable, or of order dividing 8. */
export function isDegenerateEd25519Key(x: string): boolean {
  const point = decodeEd25519Point(Buffer.from(x, 'base64url'));
  if (!point) return true;
  let q = point;
  for (let i = 0; i < 3; i++) q = add(q, q);
  return q.x === 0n && q.y === 1n;
}
