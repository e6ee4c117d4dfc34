// GET /v1/shipments/{id}/evidence: the shipment's evidence bundle, verifiable offline with `chipwatch verify-evidence`.
import { gatherEvidenceSnapshot } from '../../db/evidence.ts';
import type { Pool } from '../../db/pool.ts';
import { getShipment } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import { sealBundle } from '../../evidence/bundle.ts';
import type { SealKey } from '../../evidence/seal.ts';
import type { Policy } from '../../geo/policy.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';
import { pathId } from '../schemas.ts';

const sealSchema = z
  .object({
    alg: z.literal('EdDSA'),
    fingerprint: z.string().openapi({ description: 'SHA-256 of the raw Ed25519 public key, hex' }),
    publicJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }),
    signature: z.string().openapi({ description: 'Ed25519 over the ASCII digest value, base64url' }),
  })
  .openapi('EvidenceSeal');

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
    completeness: z
      .object({ senders: z.array(z.record(z.string(), z.unknown())) })
      .optional()
      .openapi({
        description:
          'per sender: the seq range, every seq missing inside it, gaps in time (docs/evidence-format.md)',
      }),
    policy: z.record(z.string(), z.unknown()).optional().openapi({
      description:
        "the policy it is checked against: the policy file's version, the shipment's overrides, its cited licences and the audit chains of each (docs/evidence-format.md)",
    }),
    digest: z.object({ alg: z.literal('sha256'), over: z.string(), value: z.string() }),
    seal: sealSchema,
  })
  .openapi('EvidenceBundle');

/** `policy`: the policy the checks run against, whose version each bundle names. */
export function evidenceRouter(db: Pool, sealKey: SealKey, policy?: Policy) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/evidence',
      roles: ['compliance'],
      summary: "A shipment's evidence bundle",
      description:
        'Signed telemetry and attestations as received, the keys, the alerts with their audit hash chain, and a digest. Verify offline with `npx chipwatch verify-evidence bundle.json`.',
      request: { params: pathId('shp-001') },
      responses: { 200: json(bundleSchema, 'the bundle (Content-Disposition: attachment)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const shipment = await getShipment(db, id);
      if (!shipment) throw new AppError('NOT_FOUND', `no shipment ${id}`);
      const bundle = sealBundle(
        await gatherEvidenceSnapshot(db, shipment, c.get('principal').sub, policy),
        sealKey,
      );
      c.header(
        'Content-Disposition',
        `attachment; filename="evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`,
      );
      return c.json(bundle, 200);
    },
  );
  return r;
}

/** GET /v1/evidence/key: the key that seals bundles, to pin in `chipwatch verify-evidence --key <fingerprint>`. */
export function evidenceKeyRouter(sealKey: SealKey) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/key',
      roles: ['logistics', 'compliance'],
      summary: 'The public key that seals evidence bundles',
      description:
        'Pin its fingerprint when verifying: `npx chipwatch verify-evidence bundle.json --key <fingerprint>`. Set EVIDENCE_SIGNING_KEY_FILE to use your own key.',
      responses: {
        200: json(
          z
            .object({
              alg: z.literal('EdDSA'),
              fingerprint: z.string(),
              publicJwk: sealSchema.shape.publicJwk,
            })
            .openapi('EvidenceKey'),
          'the sealing key',
        ),
      },
    }),
    (c) =>
      c.json({ alg: 'EdDSA' as const, fingerprint: sealKey.fingerprint, publicJwk: sealKey.publicJwk }, 200),
  );
  return r;
}
