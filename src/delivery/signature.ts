// Webhook signatures (DESIGN.md): `X-Chipwatch-Signature: v1=<hex HMAC-SHA256 over "{timestamp}.{body}">`, and the
// check a receiver runs on them. Pure but for node:crypto.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HEADER_TIMESTAMP = 'X-Chipwatch-Timestamp';
export const HEADER_DELIVERY = 'X-Chipwatch-Delivery';
export const HEADER_SIGNATURE = 'X-Chipwatch-Signature';

/** The signature header's value for a body sent at `timestampS` (epoch seconds). */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

export type WebhookVerdict =
  | { ok: true; deliveryId: string | undefined; timestampS: number }
  | { ok: false; reason: 'MISSING_HEADER' | 'BAD_TIMESTAMP' | 'TIMESTAMP_OUT_OF_RANGE' | 'BAD_SIGNATURE' };

export interface WebhookRequest {
  /** Header lookup, case-insensitive (e.g. `(n) => req.headers[n.toLowerCase()]` or `(n) => req.headers.get(n)`). */
  header(name: string): string | string[] | null | undefined;
  /** The raw body exactly as received: re-serialised JSON would not match. */
  body: string | Buffer;
}

/**
 * For receivers: accepts a chipwatch webhook only if one of `secrets` (several while rotating) signed exactly this
 * timestamp and body, and the timestamp lies within `toleranceS` of the receiver's clock — an old captured request
 * replayed later fails. Dedupe accepted requests by `deliveryId`: chipwatch delivers at least once.
 */
export function verifyWebhook(
  req: WebhookRequest,
  secrets: string | string[],
  opts: { toleranceS?: number; nowMs?: number } = {},
): WebhookVerdict {
  const one = (name: string) => {
    const v = req.header(name) ?? req.header(name.toLowerCase());
    return Array.isArray(v) ? v[0] : (v ?? undefined);
  };
  const timestamp = one(HEADER_TIMESTAMP);
  const signature = one(HEADER_SIGNATURE);
  if (timestamp === undefined || signature === undefined) return { ok: false, reason: 'MISSING_HEADER' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'BAD_TIMESTAMP' };
  const timestampS = Number(timestamp);
  const toleranceS = opts.toleranceS ?? 300;
  const nowS = (opts.nowMs ?? Date.now()) / 1000;
  if (Math.abs(nowS - timestampS) > toleranceS) return { ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' };
  const body = typeof req.body === 'string' ? req.body : req.body.toString('utf8');
  const offered = signature
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  for (const secret of Array.isArray(secrets) ? secrets : [secrets]) {
    const expected = Buffer.from(signWebhook(secret, timestampS, body).slice(3), 'hex');
    // Constant-time: a byte-by-byte compare would leak how much of a forged signature is right.
    if (offered.some((o) => o.length === expected.length && timingSafeEqual(o, expected))) {
      return { ok: true, deliveryId: one(HEADER_DELIVERY), timestampS };
    }
  }
  return { ok: false, reason: 'BAD_SIGNATURE' };
}
