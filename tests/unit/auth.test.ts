// API tokens (src/auth.ts): what mintToken writes, what the verifier takes and refuses (each refusal 401
// UNAUTHENTICATED with its reason), and where the HS256 secret comes from.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTokenVerifier,
  DEFAULT_MAX_TTL_S,
  mintToken,
  ROLES,
  resolveJwtSecret,
} from '../../src/auth.ts';
import type { AppError } from '../../src/domain/errors.ts';

const secret = new TextEncoder().encode('unit-secret-unit-secret-unit-secret-0001');
const verify = createTokenVerifier({ secret, issuer: 'chipwatch' });
const nowS = () => Math.floor(Date.now() / 1000);
const token = (
  claims: Record<string, unknown>,
  o: { sub?: string | null; iss?: string; alg?: string } = {},
) => {
  let j = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setIssuer(o.iss ?? 'chipwatch');
  if (o.sub !== null) j = j.setSubject(o.sub ?? 'alice');
  return j.sign(secret);
};
async function refusal(p: Promise<unknown>): Promise<string> {
  const e = (await p.then(
    () => undefined,
    (err) => err,
  )) as AppError | undefined;
  expect(e?.code).toBe('UNAUTHENTICATED');
  return e!.message;
}

describe('mintToken', () => {
  it('writes HS256 with typ JWT, sub, role, iss, iat and exp = iat + ttl', async () => {
    const t = await mintToken(secret, { sub: 'bob', role: 'logistics', issuer: 'cw', ttlS: 120 });
    expect(decodeProtectedHeader(t)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const c = decodeJwt(t);
    expect(c).toMatchObject({ sub: 'bob', role: 'logistics', iss: 'cw' });
    expect(c.exp! - c.iat!).toBe(120);
    expect(Math.abs(c.iat! - nowS())).toBeLessThanOrEqual(1);
  });

  it('mints up to the cap (30 days by default) and refuses past it, naming AUTH_TOKEN_MAX_TTL_S', async () => {
    expect(DEFAULT_MAX_TTL_S).toBe(2_592_000);
    await expect(
      mintToken(secret, { sub: 's', role: 'admin', issuer: 'i', ttlS: DEFAULT_MAX_TTL_S }),
    ).resolves.toBeTypeOf('string');
    await expect(
      mintToken(secret, { sub: 's', role: 'admin', issuer: 'i', ttlS: DEFAULT_MAX_TTL_S + 1 }),
    ).rejects.toThrow(/at most 2592000 s \(AUTH_TOKEN_MAX_TTL_S\); asked for 2592001 s/);
    await expect(
      mintToken(secret, { sub: 's', role: 'admin', issuer: 'i', ttlS: 61, maxTtlS: 60 }),
    ).rejects.toThrow(/at most 60 s/);
  });
});

describe('the token verifier', () => {
  it('takes each role and returns sub, role and exp', async () => {
    for (const role of ROLES) {
      const t = await mintToken(secret, { sub: `u-${role}`, role, issuer: 'chipwatch', ttlS: 60 });
      const p = await verify(t);
      expect(p).toEqual({ sub: `u-${role}`, role, exp: decodeJwt(t).exp });
    }
  });

  it('refuses a token without exp, without sub, of another issuer or another algorithm', async () => {
    expect(await refusal(verify(await token({ role: 'admin' })))).toMatch(/^invalid token: .*exp/);
    expect(await refusal(verify(await token({ role: 'admin', exp: nowS() + 60 }, { sub: null })))).toMatch(
      /sub/,
    );
    expect(await refusal(verify(await token({ role: 'admin', exp: nowS() + 60 }, { iss: 'x' })))).toMatch(
      /iss/,
    );
    expect(await refusal(verify(await token({ role: 'admin', exp: nowS() + 60 }, { alg: 'HS512' })))).toMatch(
      /^invalid token/,
    );
  });

  it('refuses a role outside the three, or none', async () => {
    for (const role of ['root', undefined, 7]) {
      expect(await refusal(verify(await token({ role, exp: nowS() + 60 })))).toBe(
        'token has no valid role claim',
      );
    }
  });

  it('refuses a sub that is not printable text or longer than 256 characters; takes 256', async () => {
    const msg = 'token sub must be printable text of at most 256 characters';
    expect(await refusal(verify(await token({ role: 'admin', exp: nowS() + 60 }, { sub: 'a\u0000b' })))).toBe(
      msg,
    );
    expect(
      await refusal(verify(await token({ role: 'admin', exp: nowS() + 60 }, { sub: 'x'.repeat(257) }))),
    ).toBe(msg);
    await expect(
      verify(await token({ role: 'admin', exp: nowS() + 60 }, { sub: 'x'.repeat(256) })),
    ).resolves.toMatchObject({
      sub: 'x'.repeat(256),
    });
  });

  it('refuses a lifetime over the cap by exp − iat, or without iat by exp − now beyond a minute of tolerance', async () => {
    const v = createTokenVerifier({ secret, issuer: 'chipwatch', maxTtlS: 600 });
    const iat = nowS();
    expect(await refusal(v(await token({ role: 'admin', iat, exp: iat + 601 })))).toMatch(
      /^token lifetime 601 s \(exp − iat\) is too long; tokens may live at most 600 s \(AUTH_TOKEN_MAX_TTL_S\)/,
    );
    await expect(v(await token({ role: 'admin', iat, exp: iat + 600 }))).resolves.toMatchObject({
      role: 'admin',
    });
    expect(await refusal(v(await token({ role: 'admin', exp: nowS() + 600 + 90 })))).toMatch(
      /^token expires in 6\d\d s, too far ahead/,
    );
    await expect(v(await token({ role: 'admin', exp: nowS() + 600 + 30 }))).resolves.toMatchObject({
      role: 'admin',
    });
  });

  it('refuses every token when no key is configured', async () => {
    const v = createTokenVerifier({ issuer: 'chipwatch' });
    expect(await refusal(v(await token({ role: 'admin', exp: nowS() + 60 })))).toBe(
      'invalid token: no token verification key configured',
    );
  });
});

describe('resolveJwtSecret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses AUTH_JWT_SECRET when set, and writes nothing', () => {
    expect(new TextDecoder().decode(resolveJwtSecret('env-secret', join(dir, 'none')))).toBe('env-secret');
  });

  it('creates DATA_DIR/jwt-secret (mode 600) once and reads the same secret after', () => {
    const data = join(dir, 'data');
    const first = resolveJwtSecret(undefined, data);
    expect(first.length).toBeGreaterThanOrEqual(43);
    expect(statSync(join(data, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(resolveJwtSecret(undefined, data)).toEqual(first);
    expect(new TextDecoder().decode(first)).toBe(readFileSync(join(data, 'jwt-secret'), 'utf8').trim());
  });

  it('refuses to create one when told not to, naming the file and what to do', () => {
    expect(() => resolveJwtSecret(undefined, join(dir, 'empty'), false)).toThrow(
      /no AUTH_JWT_SECRET and no .*empty\/jwt-secret: start chipwatch once, or pass --token/,
    );
  });
});
