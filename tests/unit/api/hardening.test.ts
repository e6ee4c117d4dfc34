// The pure pieces of API hardening: the text guard, strict RFC 3339 times, token lifetime, the address rule for
// webhooks, and a webhook delivery that re-checks its target and never reports the receiver's body.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from '../../../src/api/pagination.ts';
import { createTokenVerifier, mintToken } from '../../../src/auth.ts';
import type { ClaimedDelivery } from '../../../src/db/outbox.ts';
import { sendWebhook } from '../../../src/delivery/channels/webhook.ts';
import { addressRefusal, parseCidr } from '../../../src/domain/addresses.ts';
import type { AppError } from '../../../src/domain/errors.ts';
import { findTextProblem, jsonBytesMayHoldBadText, textProblem } from '../../../src/domain/text.ts';

describe('text guard', () => {
  it('names NUL, control characters and lone surrogates with their index; keeps ordinary text', () => {
    expect(textProblem('ab\u0000c')).toBe('contains NUL (U+0000) at index 2');
    expect(textProblem('a\u001bb')).toBe('contains control character U+001B at index 1');
    expect(textProblem('x\ud800')).toBe('contains an unpaired surrogate U+D800 at index 1');
    expect(textProblem('Zürich 北京 🚢')).toBeUndefined();
    expect(textProblem('a\nb')).toMatch(/U\+000A/);
    expect(textProblem('a\nb', { allowLineBreaks: true })).toBeUndefined();
  });

  it('finds the first bad string in nested JSON, keys included, with its path', () => {
    expect(findTextProblem({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toBe(
      'a[1].c: contains NUL (U+0000) at index 1',
    );
    expect(findTextProblem({ a: { 'k\u0000': 1 } })).toBe('a.(a key): contains NUL (U+0000) at index 1');
    expect(findTextProblem({ a: 1, b: [true, null] })).toBeUndefined();
  });

  it('lets a payload skip the walk only when its UTF-8 bytes cannot hold a refused string', () => {
    const cases: Buffer[] = [];
    // Every UTF-16 code unit, in a value and in a key, as JSON.stringify writes it (controls and lone surrogates
    // escaped) and raw where JSON allows it raw (a lone surrogate raw becomes U+FFFD in UTF-8).
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      cases.push(
        Buffer.from(JSON.stringify({ v: `a${ch}b` })),
        Buffer.from(JSON.stringify({ [`k${ch}`]: 1 })),
      );
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) cases.push(Buffer.from(`{"v":"a${ch}b"}`));
    }
    // Every two-byte sequence, and three-byte ones from every lead byte, raw inside a string: invalid and overlong
    // UTF-8 included (C0 85 and E0 82 85 would be U+0085 if a decoder accepted them).
    const wrap = (bytes: number[]) =>
      Buffer.concat([Buffer.from('{"v":"a'), Buffer.from(bytes), Buffer.from('b"}')]);
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) cases.push(wrap([a, b]));
    for (let lead = 0xe0; lead <= 0xff; lead++)
      for (let b = 0x80; b < 0xc0; b++) cases.push(wrap([lead, b, 0x85]));
    let refused = 0;
    for (const bytes of cases) {
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        continue;
      }
      if (findTextProblem(json) === undefined) continue;
      refused++;
      expect(jsonBytesMayHoldBadText(bytes), bytes.toString('hex')).toBe(true);
    }
    expect(refused).toBeGreaterThan(2 * (0x20 + 0x21 + 0x800));
    const clean = Buffer.from('{"v":1,"deviceId":"trk-1","records":[{"lat":1.5,"note":"Zürich 北京 🚢"}]}');
    expect(jsonBytesMayHoldBadText(clean)).toBe(false);
  });
});

describe('RFC 3339 times', () => {
  it('takes RFC 3339 between years 1 and 9999 and refuses the rest', () => {
    expect(parseRfc3339('2026-11-21T10:00:00Z')).toBe(Date.parse('2026-11-21T10:00:00Z'));
    expect(parseRfc3339('2026-11-21t10:00:00.123456789+01:00')).toBe(
      Date.parse('2026-11-21T10:00:00.123+01:00'),
    );
    for (const bad of [
      '0000-01-01T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      'NaN',
      '1',
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00+24:00',
      '2026-01-01',
    ])
      expect(parseRfc3339(bad), bad).toBeUndefined();
    expect(parseRfc3339('2028-02-29T00:00:00Z')).toBeDefined();
  });
});

describe('token lifetime', () => {
  const secret = new TextEncoder().encode('unit-secret-unit-secret-unit-secret-01');
  const verify = createTokenVerifier({ secret, issuer: 'cw', maxTtlS: 3600 });
  const token = (iatS: number, expS: number) =>
    new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('s')
      .setIssuer('cw')
      .setIssuedAt(iatS)
      .setExpirationTime(expS)
      .sign(secret);
  const now = Math.floor(Date.now() / 1000);
  const refusal = async (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('accepted');
      },
      (e: AppError) => e,
    );

  it('refuses a token whose exp − iat exceeds the cap, with 401 UNAUTHENTICATED naming the setting', async () => {
    const e = await refusal(verify(await token(now, now + 7200)));
    expect(e.code).toBe('UNAUTHENTICATED');
    expect(e.message).toMatch(/lifetime 7200 s .*AUTH_TOKEN_MAX_TTL_S/);
  });

  it('refuses a token without iat that expires too far ahead', async () => {
    const t = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('s')
      .setIssuer('cw')
      .setExpirationTime(now + 86_400)
      .sign(secret);
    expect((await refusal(verify(t))).code).toBe('UNAUTHENTICATED');
  });

  it('takes a token within the cap, and mintToken refuses to mint past it', async () => {
    expect((await verify(await token(now, now + 3600))).sub).toBe('s');
    await expect(
      mintToken(secret, { sub: 's', role: 'admin', issuer: 'cw', ttlS: 7200, maxTtlS: 3600 }),
    ).rejects.toThrow(/at most 3600 s/);
  });
});

describe('webhook addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped 127.0.0.1, loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped 127.0.0.1, loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 169.254.169.254, link-local'],
    ['2002:c0a8:0101::1', '6to4 192.168.1.1, private'],
    ['100.100.100.100', 'carrier-grade NAT (shared)'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['0.0.0.0', '"this network"'],
    ['224.0.0.1', 'multicast'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(addressRefusal(address, [])).toBe(`${address} is ${reason}`);
  });

  it('takes public addresses, and private ones inside WEBHOOK_ALLOW_PRIVATE', () => {
    expect(addressRefusal('8.8.8.8', [])).toBeUndefined();
    expect(addressRefusal('2606:4700::1111', [])).toBeUndefined();
    expect(addressRefusal('10.1.2.3', [parseCidr('10.0.0.0/8')!])).toBeUndefined();
    expect(addressRefusal('::ffff:10.1.2.3', [parseCidr('10.0.0.0/8')!])).toBeUndefined();
    expect(addressRefusal('10.1.2.3', [parseCidr('10.2.0.0/16')!])).toMatch(/private/);
  });
});

describe('webhook delivery', () => {
  const delivery = (url: string) =>
    ({
      id: '00000000-0000-4000-8000-000000000001',
      attempt: 1,
      budgetAttempt: 1,
      channel: { id: 'ch', type: 'webhook', url, secret: 's'.repeat(32) },
      event: {
        seq: 1,
        alertId: 1,
        action: 'opened',
        actor: null,
        note: null,
        alert: {},
        createdAt: new Date(),
        late: false,
      },
    }) as unknown as ClaimedDelivery;

  it('re-checks the target at delivery: a name that now resolves to loopback is dead, nothing is sent', async () => {
    let hits = 0;
    const server = http.createServer((_q, s) => {
      hits++;
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const result = await sendWebhook(delivery(`http://hooks.example.test:${port}/x`), {
      timeoutMs: 2000,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    server.close();
    expect(result).toMatchObject({ ok: false, retry: false });
    expect(!result.ok && result.error).toMatch(/hooks\.example\.test resolves to 127\.0\.0\.1 is loopback/);
    expect(hits).toBe(0);
  });

  it('connects to the checked address with the URL host, and reports a failure as its status only, never the body', async () => {
    let host = '';
    const server = http.createServer((q, s) => {
      host = q.headers.host ?? '';
      s.statusCode = 500;
      s.end('SSH-2.0-OpenSSH_9.6 internal banner');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const result = await sendWebhook(delivery(`http://hooks.example.test:${port}/x`), {
      timeoutMs: 2000,
      allow: [parseCidr('127.0.0.1/32')!],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    server.close();
    expect(host).toBe(`hooks.example.test:${port}`);
    expect(result).toMatchObject({ ok: false, retry: true, error: 'HTTP 500', status: 500 });
  });
});
