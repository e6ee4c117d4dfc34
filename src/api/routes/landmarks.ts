// /v1/landmarks: the RTT landmarks sites measure their round-trip times to.
import { insertLandmark, listLandmarks } from '../../db/landmarks.ts';
import type { Pool } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { normalizePublicJwk } from '../../verify/keys.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { idSchema, lat, listOf, lon, publicJwk, time } from '../schemas.ts';

export const landmarkBody = z
  .object({
    id: idSchema,
    name: z.string().max(200).optional(),
    lat,
    lon,
    publicKeyJwk: publicJwk.optional(),
  })
  .openapi('LandmarkRegistration');

const landmarkSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    lat: z.number(),
    lon: z.number(),
    createdAt: time.optional(),
  })
  .openapi('Landmark');

export function landmarksRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['admin'],
      summary: 'Register an RTT landmark',
      description:
        'A public key may be given for landmark-signed RTT measurements (a later step); it is stored.',
      request: { body: { content: { 'application/json': { schema: landmarkBody } }, required: true } },
      responses: { 201: json(landmarkSchema, 'registered'), 409: errorResponse('CONFLICT: the id exists') },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const jwk = b.publicKeyJwk === undefined ? null : normalizePublicJwk(b.publicKeyJwk);
      const landmark = { id: b.id, name: b.name ?? null, lat: b.lat, lon: b.lon };
      if (!(await insertLandmark(db, { ...landmark, jwk }, c.get('principal').sub)))
        throw new AppError('CONFLICT', `landmark ${b.id} is already registered`);
      c.header('Location', `/v1/landmarks/${b.id}`);
      return c.json(landmark, 201);
    },
  );
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'List RTT landmarks',
      responses: { 200: json(listOf(landmarkSchema, 'LandmarkList'), 'every landmark') },
    }),
    async (c) => c.json({ items: await listLandmarks(db), nextCursor: null }, 200),
  );
  return r;
}
