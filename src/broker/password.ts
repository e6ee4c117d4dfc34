// MQTT passwords of trackers and sites: 32 random bytes shown once, kept only as a salted scrypt hash, compared in
// constant time. The password is a random 256-bit secret, not something a person chose, so the hash needs no large
// work factor to resist guessing: N = 2^10 keeps a reconnect storm cheap (about 1 ms of CPU per connect) while a
// leaked table still yields nothing usable. The parameters travel in the stored string, so they can be raised later.
import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const PARAMS = { N: 1024, r: 8, p: 1 } as const;
const KEY_BYTES = 32;

/** A new MQTT password: 32 random bytes, base64url (43 characters). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

function derive(password: string, salt: Buffer, opts: ScryptOptions, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, bytes, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS, KEY_BYTES);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** True when `password` matches the stored hash; false for any malformed hash (never throws on bad input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || expected.length < 16 || password.length > 1024) return false;
  const actual = await derive(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(actual, expected);
}

/** SHA-256 of a password: what the broker remembers of a verified one, so a reconnect skips scrypt. */
export function passwordDigest(password: string | Buffer): Buffer {
  return createHash('sha256').update(password).digest();
}

/** Constant-time equality of two digests. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
