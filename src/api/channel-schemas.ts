// The shapes of a delivery channel in the API: what may be registered and patched, and what is shown (never the
// webhook secret). Used by routes/channels.ts.
import type { ChannelRecord } from '../db/channels.ts';
import { type AlertType, SEVERITY } from '../domain/alerts.ts';
import { z } from './openapi.ts';
import { cursorParam, limitParam, MAX_PAGE } from './pagination.ts';
import { idSchema, severity, time } from './schemas.ts';

export const channelId = idSchema.openapi({ example: 'ch-ops-webhook' });
const alertType = z
  .enum(Object.keys(SEVERITY) as [AlertType, ...AlertType[]])
  .openapi({ example: 'ROUTE_DEVIATION' });
const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000)
  .openapi({
    description: 'where alerts are POSTed, signed with the secret',
    example: 'https://ops.example.com/hook',
  });
const webhookSecret = z
  .string()
  .min(16, 'at least 16 characters')
  .max(256)
  .openapi({ description: 'HMAC key of the signature header; never shown again' });
const recipients = z
  .array(z.email())
  .min(1)
  .max(50)
  .openapi({ description: 'e-mail addresses', example: ['ops@example.com'] });
const topic = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^#+]*[^/#+]$/, 'an MQTT topic without wildcards or a trailing slash')
  .openapi({
    description: 'base topic (alerts go to {topic}/{shipmentId}); absent or null: {MQTT_TOPIC_PREFIX}/alerts',
    example: 'acme/alerts',
  });
/** null or absent: no filter. */
const filter = <T extends z.ZodType>(item: T, description: string) =>
  z
    .array(item)
    .min(1)
    .max(1000)
    .nullable()
    .optional()
    .openapi({ description: `${description}; null or absent: no filter` });

const minSeverity = severity.openapi({ description: 'the least severe alert the channel hears of' });
const renotifyAfterS = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400)
  .openapi({
    description: 'an alert that keeps updating is sent again at most this often, s (0: every update)',
  });
const filters = {
  types: filter(alertType, 'only these alert types'),
  shipmentIds: filter(idSchema, 'only alerts of these shipments (or of the customers below)'),
  customers: filter(
    z.string().min(1).max(200),
    "only alerts of these customers' shipments (or of the shipments above)",
  ),
};
const routing = {
  minSeverity: minSeverity.default('info'),
  ...filters,
  renotifyAfterS: renotifyAfterS.default(3600),
  enabled: z.boolean().default(true),
};

/** POST /v1/channels. A webhook without `secret` gets a generated one, returned once in the answer. */
export const channelBody = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('webhook'),
        id: channelId.optional(),
        url: webhookUrl,
        secret: webhookSecret.optional(),
        ...routing,
      })
      .openapi('WebhookChannelRegistration'),
    z
      .strictObject({ type: z.literal('email'), id: channelId.optional(), to: recipients, ...routing })
      .openapi('EmailChannelRegistration'),
    z
      .strictObject({
        type: z.literal('mqtt'),
        id: channelId.optional(),
        topic: topic.optional(),
        ...routing,
      })
      .openapi('MqttChannelRegistration'),
  ])
  .openapi('ChannelRegistration', {
    description:
      'A channel and its routing filters. Without `id` one is generated; a webhook without `secret` gets a generated one.',
  });

/** PATCH /v1/channels/{id}: the fields to change (null clears a filter); type-specific fields only on their type. */
export const channelPatch = z
  .strictObject({
    url: webhookUrl.optional(),
    secret: webhookSecret.optional(),
    to: recipients.optional(),
    topic: topic.nullable().optional(),
    minSeverity: minSeverity.optional(),
    ...filters,
    renotifyAfterS: renotifyAfterS.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi('ChannelPatch', {
    description:
      'The fields to change; absent: unchanged, null: cleared. `url` and `secret` only on a webhook, `to` on e-mail, `topic` on MQTT.',
  });

export const channelsQuery = z.object({
  type: z
    .enum(['webhook', 'email', 'mqtt'])
    .optional()
    .openapi({ description: 'only channels of this type' }),
  limit: limitParam(MAX_PAGE, 100),
  cursor: cursorParam,
});

export const channelSchema = z
  .object({
    id: z.string(),
    type: z.enum(['webhook', 'email', 'mqtt']),
    url: z.string().nullable().optional().openapi({ description: 'webhook only' }),
    secretSet: z
      .boolean()
      .optional()
      .openapi({ description: 'webhook only: whether it has a secret (never shown)' }),
    to: z.array(z.string()).optional().openapi({ description: 'e-mail only: the recipients' }),
    topic: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'MQTT only: the base topic; null: {MQTT_TOPIC_PREFIX}/alerts' }),
    minSeverity: severity,
    types: z.array(z.string()).nullable(),
    shipmentIds: z.array(z.string()).nullable(),
    customers: z.array(z.string()).nullable(),
    renotifyAfterS: z.number(),
    enabled: z.boolean(),
    createdAt: time,
    createdBy: z.string().nullable(),
    updatedAt: time,
  })
  .openapi('Channel');

export const channelCreated = channelSchema
  .extend({
    secret: z.string().optional().openapi({
      description:
        'the generated webhook secret, when none was given: shown this once, for the receiver to verify signatures',
    }),
  })
  .openapi('ChannelCreated');

/** The API view: never the webhook secret, only that one is set. */
export function channelView(ch: ChannelRecord) {
  return {
    id: ch.id,
    type: ch.type,
    ...(ch.type === 'webhook' ? { url: ch.url, secretSet: ch.secret !== null } : {}),
    ...(ch.type === 'email' ? { to: ch.recipients ?? [] } : {}),
    ...(ch.type === 'mqtt' ? { topic: ch.topic } : {}),
    minSeverity: ch.minSeverity,
    types: ch.types,
    shipmentIds: ch.shipmentIds,
    customers: ch.customers,
    renotifyAfterS: ch.renotifyAfterS,
    enabled: ch.enabled,
    createdAt: ch.createdAt,
    createdBy: ch.createdBy,
    updatedAt: ch.updatedAt,
  };
}

const TYPE_OF_FIELD = [
  ['url', 'webhook'],
  ['secret', 'webhook'],
  ['to', 'email'],
  ['topic', 'mqtt'],
] as const;

/** The first field of the patch that only another channel type has, with that type. */
export function foreignField(patch: z.infer<typeof channelPatch>, type: ChannelRecord['type']) {
  return TYPE_OF_FIELD.find(([field, t]) => patch[field] !== undefined && type !== t);
}
