// The HTTP API's contract: authentication, roles, validation, and JSON errors with the right status.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, TEST_SECRET, type TestChipwatch } from '../helpers/chipwatch.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

let broker: TestBroker;
let cw: TestChipwatch;
const secret = new TextEncoder().encode(TEST_SECRET);

beforeAll(async () => {
  broker = await startAedes();
  cw = await startTestChipwatch({
    DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
    MQTT_URL: broker.url,
  });
});
afterAll(async () => {
  await cw?.stop();
  await broker?.stop();
});

const expectError = (res: { status: number; body: any }, status: number, code: string) => {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
};

describe('authentication', () => {
  const sign = (claims: Record<string, unknown>, configure: (j: SignJWT) => SignJWT = (j) => j) =>
    configure(
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('chipwatch'),
    ).sign(secret);

  it('answers 401 without a token, with a malformed one, and with a bad signature', async () => {
    expectError(await cw.api('GET', '/v1/rejections', { role: null }), 401, 'UNAUTHENTICATED');
    expectError(await cw.api('GET', '/v1/rejections', { token: 'abc.def' }), 401, 'UNAUTHENTICATED');
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('chipwatch')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-another'));
    expectError(await cw.api('GET', '/v1/rejections', { token: forged }), 401, 'UNAUTHENTICATED');
  });

  it('answers 401 for an expired token, a token without exp, a wrong issuer, alg none and an unknown role', async () => {
    const expired = await sign({ role: 'admin' }, (j) =>
      j.setExpirationTime(Math.floor(Date.now() / 1000) - 60),
    );
    const noExp = await sign({ role: 'admin' });
    const wrongIss = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('evil')
      .setExpirationTime('1h')
      .sign(secret);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ role: 'admin', sub: 'x', iss: 'chipwatch', exp: 9e9 })}.`;
    const badRole = await sign({ role: 'root' }, (j) => j.setExpirationTime('1h'));
    for (const token of [expired, noExp, wrongIss, none, badRole]) {
      expectError(await cw.api('GET', '/v1/rejections', { token }), 401, 'UNAUTHENTICATED');
    }
  });

  it('enforces roles: logistics may not read rejections or register devices; compliance may read rejections', async () => {
    expectError(await cw.api('GET', '/v1/rejections', { role: 'logistics' }), 403, 'FORBIDDEN');
    expect((await cw.api('GET', '/v1/rejections', { role: 'compliance' })).status).toBe(200);
    const body = { id: 'trk-role', publicKeyJwk: generateDeviceKey().publicJwk };
    expectError(await cw.api('POST', '/v1/devices', { role: 'logistics', body }), 403, 'FORBIDDEN');
    expectError(await cw.api('POST', '/v1/devices', { role: 'compliance', body }), 403, 'FORBIDDEN');
    expectError(
      await cw.api('POST', '/v1/devices/trk-role/revoke', { role: 'compliance' }),
      403,
      'FORBIDDEN',
    );
  });

  it('leaves health, readiness and metrics open', async () => {
    expect((await cw.api('GET', '/healthz', { role: null })).status).toBe(200);
    const ready = await cw.api('GET', '/readyz', { role: null });
    expect(ready).toEqual({ status: 200, body: { status: 'ready', database: true, broker: true } });
    const metrics = await fetch(`${cw.httpUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('chipwatch_mqtt_connected 1');
  });
});

describe('devices', () => {
  it('registers a device, refuses the same id or kid again with 409, and revokes it', async () => {
    const key = generateDeviceKey('ES256');
    const created = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-api-1', publicKeyJwk: key.publicJwk },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'trk-api-1',
      status: 'active',
      keys: [{ kid: key.kid, alg: 'ES256', revokedAt: null }],
    });
    expectError(
      await cw.api('POST', '/v1/devices', {
        body: { id: 'trk-api-1', publicKeyJwk: generateDeviceKey().publicJwk },
      }),
      409,
      'CONFLICT',
    );
    expectError(
      await cw.api('POST', '/v1/devices', { body: { id: 'trk-api-2', publicKeyJwk: key.publicJwk } }),
      409,
      'CONFLICT',
    );
    const revoked = await cw.api('POST', '/v1/devices/trk-api-1/revoke', {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect(revoked.body.keys[0].revokedAt).not.toBeNull();
    expectError(await cw.api('POST', '/v1/devices/nope/revoke', {}), 404, 'NOT_FOUND');
  });

  it('registers a fleet in one batch, all or none', async () => {
    const fleet = Array.from({ length: 300 }, (_, i) => ({
      id: `trk-batch-${i}`,
      publicKeyJwk: generateDeviceKey(i % 2 ? 'ES256' : 'EdDSA').publicJwk,
    }));
    const res = await cw.api('POST', '/v1/devices/batch', { body: { devices: fleet } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.registered).toBe(300);
    const one = await cw.api('GET', '/v1/devices/trk-batch-7', { role: 'logistics' });
    expect(one.body.keys).toHaveLength(1);
    expect(one.body.keys[0].alg).toBe('ES256');
    // One taken id refuses the whole batch, naming it; the new ids stay unregistered.
    const again = await cw.api('POST', '/v1/devices/batch', {
      body: { devices: [{ id: 'trk-batch-new', publicKeyJwk: generateDeviceKey().publicJwk }, fleet[5]] },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('device trk-batch-5');
    expect((await cw.api('GET', '/v1/devices/trk-batch-new', { role: 'logistics' })).status).toBe(404);
    const repeated = await cw.api('POST', '/v1/devices/batch', { body: { devices: [fleet[0], fleet[0]] } });
    expect(repeated.status).toBe(409);
    expect((await cw.api('POST', '/v1/devices/batch', { body: { devices: [] } })).status).toBe(422);
    expect(
      (await cw.api('POST', '/v1/devices/batch', { role: 'logistics', body: { devices: fleet } })).status,
    ).toBe(403);
  });

  it('validates bodies: 400 for non-JSON, 422 for bad ids and keys', async () => {
    expectError(await cw.api('POST', '/v1/devices', { body: '{not json' }), 400, 'BAD_REQUEST');
    expectError(
      await cw.api('POST', '/v1/devices', {
        body: { id: 'bad id/with slash', publicKeyJwk: generateDeviceKey().publicJwk },
      }),
      422,
      'VALIDATION_FAILED',
    );
    expectError(
      await cw.api('POST', '/v1/devices', {
        body: { id: 'trk-x', publicKeyJwk: { kty: 'oct', k: 'abc', kid: 'x' } },
      }),
      422,
      'VALIDATION_FAILED',
    );
    expectError(await cw.api('POST', '/v1/devices', { body: { id: 'trk-x' } }), 422, 'VALIDATION_FAILED');
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const res = await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-big', pad: 'x'.repeat(2 * 1024 * 1024) },
    });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 404 for unknown devices and routes, 400 for bad query parameters and cursors', async () => {
    expectError(
      await cw.api('GET', '/v1/devices/unknown/positions', { role: 'logistics' }),
      404,
      'NOT_FOUND',
    );
    expectError(await cw.api('GET', '/v1/nothing-here', {}), 404, 'NOT_FOUND');
    await cw.api('POST', '/v1/devices', {
      body: { id: 'trk-q', publicKeyJwk: generateDeviceKey().publicJwk },
    });
    expectError(
      await cw.api('GET', '/v1/devices/trk-q/positions?from=yesterday', { role: 'logistics' }),
      400,
      'BAD_REQUEST',
    );
    expectError(
      await cw.api('GET', '/v1/devices/trk-q/positions?limit=0', { role: 'logistics' }),
      400,
      'BAD_REQUEST',
    );
    // Cursors of the right length but the wrong types: 400 on every list, never a SQL error (500).
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const path of [
      `/v1/alerts?cursor=${forged(['abc'])}`,
      `/v1/rejections?cursor=${forged(['x', 'y'])}`,
      `/v1/shipments?sort=newest&cursor=${forged(['x', 'y'])}`,
      `/v1/devices/trk-q/positions?cursor=${forged(['a', 'b', 'c'])}`,
    ]) {
      expectError(await cw.api('GET', path, { role: 'compliance' }), 400, 'BAD_REQUEST');
    }
    expectError(
      await cw.api('GET', '/v1/devices/trk-q/positions?cursor=zzz', { role: 'logistics' }),
      400,
      'BAD_REQUEST',
    );
    expectError(
      await cw.api('GET', '/v1/rejections?reason=NOT_A_CODE', { role: 'compliance' }),
      400,
      'BAD_REQUEST',
    );
    const empty = await cw.api('GET', '/v1/devices/trk-q/positions', { role: 'logistics' });
    expect(empty.body).toEqual({ items: [], nextCursor: null });
  });
});
