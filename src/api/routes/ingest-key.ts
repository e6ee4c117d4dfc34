// GET /v1/ingest/key: chipwatch's ack-signing public key, public, so tracker firmware can pin it and verify every ack
// before deleting anything from its buffer (wire protocol v1, "Acks are signed").
import type { OwnKey } from '../../keyfile.ts';
import { ACK_TYP } from '../../verify/ack.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';

export const ackKeySchema = z
  .object({
    alg: z.literal('EdDSA'),
    typ: z.literal(ACK_TYP),
    fingerprint: z
      .string()
      .openapi({ description: 'hex SHA-256 of the raw public key; the `kid` of every ack' }),
    publicJwk: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string() }),
  })
  .openapi('AckKey');

/** The public half of the ack key as every answer shows it (this route, and device and site registration). */
export function ackKeyView(key: OwnKey): z.infer<typeof ackKeySchema> {
  return { alg: 'EdDSA', typ: ACK_TYP, fingerprint: key.fingerprint, publicJwk: key.publicJwk };
}

export function ingestKeyRouter(ackKey: OwnKey) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/key',
      roles: 'public',
      summary: "chipwatch's ack-signing public key",
      description:
        'Trackers and sites verify each ack (a compact JWS, typ chipwatch-ack+jws) against this key before deleting anything. Set ACK_SIGNING_KEY_FILE to use your own key; otherwise it is generated once into DATA_DIR/ack-signing-key.pem.',
      responses: { 200: json(ackKeySchema, 'the ack key') },
    }),
    (c) => c.json(ackKeyView(ackKey), 200),
  );
  return r;
}
