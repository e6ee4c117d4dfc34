// The schema pieces every router shares: ids (the one grammar of src/domain/ids.ts), coordinates, country codes,
// times and path ids. Page size, cursors and time ranges live in pagination.ts.
import { z } from '@hono/zod-openapi';
import { ID_PATTERN, ID_RULE } from '../domain/ids.ts';

/** An id in a body: what device, shipment, zone, site, landmark and channel ids may contain. */
export const id = z.string().regex(ID_PATTERN, ID_RULE);

/** `id`, documented with an example. */
export const idSchema = id.openapi({ example: 'trk-000042' });

export const lat = z.number().min(-90).max(90);
export const lon = z.number().min(-180).max(180);

/** ISO 3166-1 alpha-2 country code. */
export const iso2 = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2, e.g. CN');

/** An alert's severity, least to most severe. */
export const severity = z.enum(['info', 'warning', 'critical']);

/** A time in an answer, RFC 3339. */
export const time = z.string().openapi({ format: 'date-time' });

/** One row of a policy audit hash chain (a shipment's or a licence's): who did what, when, chained by hash. */
export const policyAuditRow = z.object({
  subject: z.string(),
  at: time,
  actor: z.string(),
  role: z.string(),
  action: z.string(),
  reason: z.string().nullable(),
  details: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

/** `{"items": [...], "nextCursor": "..." | null}` of `item`. */
export const listOf = <S extends z.ZodType>(item: S, name: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .openapi({ description: 'pass as `cursor` for the next page; null on the last page' }),
    })
    .openapi(name);

/** A point in an answer. */
export const point = z.object({ lat: z.number(), lon: z.number() });

/**
 * `{id}` in a path. Lenient on purpose: an id that cannot exist is a 404 from the lookup, not a 422; only the
 * length is bounded.
 */
export const pathId = (example: string) => z.object({ id: z.string().max(128).openapi({ example }) });

const b64url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'base64url of 32 bytes');

/**
 * A public key as trackers and sites register it: Ed25519 (OKP) or P-256 (EC), with its `kid`. The shape is checked
 * here; that `x` (and `y`) is a point on the curve, not a small-order one, and that no private part (`d`) came
 * along, is checked by normalizePublicJwk (other members pass through to it).
 */
export const publicJwk = z
  .union([
    z
      .object({
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: b64url32,
        kid: z.string().min(1).max(128),
        alg: z.literal('EdDSA').optional(),
      })
      .loose(),
    z
      .object({
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        x: b64url32,
        y: b64url32,
        kid: z.string().min(1).max(128),
        alg: z.literal('ES256').optional(),
      })
      .loose(),
  ])
  .openapi({
    description: 'public Ed25519 (OKP) or P-256 (EC) JWK with `kid`; pinned to EdDSA or ES256',
    example: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      kid: 'trk-42-k1',
    },
  });

/** A sender's first seq at registration (DESIGN.md "Wire protocol v1"): default 1; its acks count from there. */
export const firstSeqField = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .optional()
  .openapi({ description: 'the first seq this sender will use (default 1); acks count from it' });
