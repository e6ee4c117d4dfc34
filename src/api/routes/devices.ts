// /v1/devices: register a tracker key (admin), revoke it (admin), read a tracker and its fixes.
import { Hono } from 'hono';
import { z } from 'zod';
import { getDevice, insertDevice, kidExists, revokeDevice } from '../../db/devices.ts';
import type { Pool } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { jsonBody } from '../validate.ts';
import { deviceView, positionsPage } from './shared.ts';

const deviceId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'ids are 1–128 of A–Z a–z 0–9 . _ : -');
const registerBody = z.object({ id: deviceId, publicKeyJwk: z.unknown() });
const revokeBody = z.object({ reason: z.string().max(500).optional() }).optional();

export function devicesRouter(db: Pool) {
  const r = new Hono<AppEnv>();

  r.post('/', requireRole('admin'), async (c) => {
    const body = await jsonBody(c, registerBody);
    const jwk = normalizePublicJwk(body.publicKeyJwk);
    if (!(await insertDevice(db, body.id, jwk, c.get('principal').sub))) {
      const what = (await kidExists(db, jwk.kid)) ? `key id ${jwk.kid}` : `device ${body.id}`;
      throw new AppError('CONFLICT', `${what} is already registered`);
    }
    const device = await getDevice(db, body.id);
    return c.json(deviceView(device!), 201, { Location: `/v1/devices/${body.id}` });
  });

  r.post('/:id/revoke', requireRole('admin'), async (c) => {
    const id = c.req.param('id');
    const text = await c.req.text();
    let reason: string | undefined;
    if (text.trim() !== '') {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new AppError('BAD_REQUEST', 'the body must be JSON: {"reason"?: string}, or empty');
      }
      const parsed = revokeBody.safeParse(json);
      if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'body: {"reason"?: string}');
      reason = parsed.data?.reason;
    }
    if (!(await revokeDevice(db, id, c.get('principal').sub, reason ?? null))) {
      throw new AppError('NOT_FOUND', `no device ${id}`);
    }
    return c.json(deviceView((await getDevice(db, id))!));
  });

  r.get('/:id', requireRole('logistics', 'compliance'), async (c) => {
    const device = await getDevice(db, c.req.param('id'));
    if (!device) throw new AppError('NOT_FOUND', `no device ${c.req.param('id')}`);
    return c.json(deviceView(device));
  });

  r.get('/:id/positions', requireRole('logistics', 'compliance'), async (c) => {
    const id = c.req.param('id');
    if (!(await getDevice(db, id))) throw new AppError('NOT_FOUND', `no device ${id}`);
    return c.json(await positionsPage(c, db, { deviceId: id }));
  });

  return r;
}
