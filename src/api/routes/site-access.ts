// /v1/sites/{id}/revoke and /v1/sites/{id}/mqtt-credentials: ending a data center's keys and MQTT access, and
// rotating its MQTT password (admin). Registered on the sites router (routes/sites.ts).

import type { Pool } from '../../db/pool.ts';
import { revokeSender } from '../../db/revocation.ts';
import { getSite } from '../../db/sites.ts';
import { AppError } from '../../domain/errors.ts';
import { type createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { pathId } from '../schemas.ts';
import { siteSummary } from '../site-view.ts';
import { endAccess, issueCredential, mqttCredentialSchema, type SenderDeps } from './mqtt-credentials.ts';

const siteParam = pathId('dc-ams-01');
const revokeBody = z.object({ reason: z.string().max(500).optional() });

/** `siteSchema` is the sites router's Site schema (the answer of a revocation), passed in to keep imports one-way. */
export function siteAccessRoutes(
  r: ReturnType<typeof createRouter>,
  db: Pool,
  deps: SenderDeps,
  siteSchema: z.ZodType,
): void {
  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/revoke',
      roles: ['admin'],
      summary: 'Revoke a data center and all its keys',
      description:
        'Later attestations signed with its keys are refused as KEY_REVOKED, and its MQTT access ends within seconds (live connections closed). The body may be empty.',
      request: { params: siteParam, body: { content: { 'application/json': { schema: revokeBody } } } },
      responses: { 200: json(siteSchema, 'revoked (idempotent: the first revocation time stays)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { reason } = c.req.valid('json');
      if (!(await revokeSender(db, 'site', id, c.get('principal').sub, reason ?? null))) {
        throw new AppError('NOT_FOUND', `no site ${id}`);
      }
      await endAccess(deps, 'site', id);
      return c.json(siteSummary((await getSite(db, id))!), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/mqtt-credentials',
      roles: ['admin'],
      summary: 'Issue a new MQTT password for a data center, ending the old one',
      description:
        'Connections made with the old password are closed within seconds; the new one is shown this once. The body may be empty.',
      request: { params: siteParam },
      responses: {
        201: json(mqttCredentialSchema, 'the new credential'),
        409: errorResponse('CONFLICT: the site is revoked'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const site = await getSite(db, id);
      if (!site) throw new AppError('NOT_FOUND', `no site ${id}`);
      const credential = site.revokedAt
        ? undefined
        : await issueCredential(db, deps, 'site', id, c.get('principal').sub);
      if (!credential) throw new AppError('CONFLICT', `site ${id} is revoked`);
      return c.json(credential, 201);
    },
  );
}
