// API tokens: HS256 JWTs with `sub`, `role`, `iss` and a required `exp`; the secret comes from the environment
// or is generated once into DATA_DIR.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppError } from './domain/errors.ts';
import { textProblem } from './domain/text.ts';

export const ROLES = ['admin', 'logistics', 'compliance'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry (epoch seconds): long-lived answers such as the alert stream end there. */
  exp?: number;
}

const SECRET_FILE = 'jwt-secret';

/** Longest token lifetime by default (AUTH_TOKEN_MAX_TTL_S): 30 days, s. */
export const DEFAULT_MAX_TTL_S = 30 * 86_400;
/** Clock difference tolerated between the minting and the verifying machine, s. */
const CLOCK_TOLERANCE_S = 60;

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
  opts: { sub: string; role: Role; issuer: string; ttlS: number; maxTtlS?: number },
): Promise<string> {
  const maxTtlS = opts.maxTtlS ?? DEFAULT_MAX_TTL_S;
  if (opts.ttlS > maxTtlS) {
    throw new Error(
      `a token may live at most ${maxTtlS} s (AUTH_TOKEN_MAX_TTL_S); asked for ${opts.ttlS} s: mint a shorter one`,
    );
  }
  return new SignJWT({ role: opts.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub)
    .setIssuer(opts.issuer)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlS}s`)
    .sign(secret);
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Verifies a bearer token: HS256 with the secret, or the algorithms a JWKS offers; `exp` and `iss` required. A
 * token that lives longer than `maxTtlS` (exp − iat, or exp − now) is refused: a leaked token must not be good
 * for a year. Its `sub` must be printable text (it is written to the audit trail).
 */
export function createTokenVerifier(opts: {
  secret?: Uint8Array;
  jwksUrl?: string;
  issuer: string;
  /** Longest lifetime accepted, s (AUTH_TOKEN_MAX_TTL_S); default 30 days. */
  maxTtlS?: number;
}): TokenVerifier {
  const maxTtlS = opts.maxTtlS ?? DEFAULT_MAX_TTL_S;
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
    const lifetimeProblem = tooLong(payload, maxTtlS);
    if (lifetimeProblem) throw new AppError('UNAUTHENTICATED', lifetimeProblem);
    const subProblem = textProblem(payload.sub as string);
    if (typeof payload.sub !== 'string' || payload.sub.length > 256 || subProblem) {
      throw new AppError('UNAUTHENTICATED', `token sub must be printable text of at most 256 characters`);
    }
    const role = payload.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new AppError('UNAUTHENTICATED', 'token has no valid role claim');
    }
    return { sub: payload.sub as string, role: role as Role, exp: payload.exp as number };
  };
}

/** Why a token lives too long, or undefined. */
function tooLong(payload: JWTPayload, maxTtlS: number): string | undefined {
  const exp = payload.exp as number;
  const nowS = Math.floor(Date.now() / 1000);
  const hint = `tokens may live at most ${maxTtlS} s (AUTH_TOKEN_MAX_TTL_S): mint a shorter one`;
  if (typeof payload.iat === 'number' && exp - payload.iat > maxTtlS)
    return `token lifetime ${exp - payload.iat} s (exp − iat) is too long; ${hint}`;
  if (exp - nowS > maxTtlS + CLOCK_TOLERANCE_S)
    return `token expires in ${exp - nowS} s, too far ahead; ${hint}`;
  return undefined;
}
