// GET /v1/shipments/{id}/evidence: the shipment's evidence bundle, verifiable offline with `chipwatch verify-evidence`.
import { gatherEvidence } from '../../db/evidence.ts';
import type { Pool } from '../../db/pool.ts';
import { getShipment } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import { sealBundle } from '../../evidence/bundle.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';

const bundleSchema = z
  .object({
    format: z.literal('chipwatch-evidence/1'),
    generatedAt: z.string(),
    generatedBy: z.string(),
    shipment: z.record(z.string(), z.unknown()),
    sites: z.array(z.record(z.string(), z.unknown())),
    landmarks: z.array(z.record(z.string(), z.unknown())),
    keys: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: 'public keys with registeredAt and revokedAt' }),
    messages: z
      .array(
        z.object({
          kind: z.enum(['telemetry', 'attestation']),
          topic: z.string(),
          receivedAt: z.string(),
          jws: z.string(),
        }),
      )
      .openapi({ description: 'every signed message exactly as received' }),
    alerts: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: 'with their hash-chained audit trail' }),
    digest: z.object({ alg: z.literal('sha256'), over: z.string(), value: z.string() }),
  })
  .openapi('EvidenceBundle');

export function evidenceRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/evidence',
      roles: ['compliance'],
      summary: "A shipment's evidence bundle",
      description:
        'Signed telemetry and attestations as received, the keys, the alerts with their audit hash chain, and a digest. Verify offline with `npx chipwatch verify-evidence bundle.json`.',
      request: { params: z.object({ id: z.string().max(128).openapi({ example: 'shp-001' }) }) },
      responses: { 200: json(bundleSchema, 'the bundle (Content-Disposition: attachment)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const shipment = await getShipment(db, id);
      if (!shipment) throw new AppError('NOT_FOUND', `no shipment ${id}`);
      const bundle = sealBundle(await gatherEvidence(db, shipment, c.get('principal').sub));
      c.header(
        'Content-Disposition',
        `attachment; filename="evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`,
      );
      return c.json(bundle, 200);
    },
  );
  return r;
}
