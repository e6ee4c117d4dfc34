// API tokens: HS256 JWTs with `sub`, `role`, `iss` and a required `exp`; the secret comes from the environment
// or is generated once into DATA_DIR.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppError } from './domain/errors.ts';

export const ROLES = ['admin', 'logistics', 'compliance'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry (epoch seconds): long-lived answers such as the alert stream end there. */
  exp?: number;
}

const SECRET_FILE = 'jwt-secret';

/** The HS256 secret: AUTH_JWT_SECRET if set, else DATA_DIR/jwt-secret, created (mode 600) on first use. */
export function resolveJwtSecret(envSecret: string | undefined, dataDir: string, create = true): Uint8Array {
  if (envSecret) return new TextEncoder().encode(envSecret);
  const file = join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    if (!create) {
      throw new Error(
        `no AUTH_JWT_SECRET and no ${file}: start chipwatch once, or pass --token / CHIPWATCH_TOKEN`,
      );
    }
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
}

export async function mintToken(
  secret: Uint8Array,
  opts: { sub: string; role: Role; issuer: string; ttlS: number },
): Promise<string> {
  return new SignJWT({ role: opts.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub)
    .setIssuer(opts.issuer)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlS}s`)
    .sign(secret);
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Verifies a bearer token: HS256 with the secret, or the algorithms a JWKS offers; `exp` and `iss` required. */
export function createTokenVerifier(opts: {
  secret?: Uint8Array;
  jwksUrl?: string;
  issuer: string;
}): TokenVerifier {
  const jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  return async (token) => {
    let payload: JWTPayload;
    try {
      const options = { issuer: opts.issuer, requiredClaims: ['exp', 'sub'] };
      if (jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256', 'EdDSA'] }));
      } else if (opts.secret) {
        ({ payload } = await jwtVerify(token, opts.secret, { ...options, algorithms: ['HS256'] }));
      } else {
        throw new Error('no token verification key configured');
      }
    } catch (cause) {
      throw new AppError('UNAUTHENTICATED', `invalid token: ${(cause as Error).message}`, { cause });
    }
    const role = payload.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new AppError('UNAUTHENTICATED', 'token has no valid role claim');
    }
    return { sub: payload.sub as string, role: role as Role, exp: payload.exp as number };
  };
}
