// Webhook channel: POST the event as JSON, signed per DESIGN.md (timestamp, delivery id, HMAC over
// "{timestamp}.{body}"), with a timeout; the HTTP status decides delivered / retry / dead (retry.ts).
// The URL's host is resolved and checked before every attempt (webhook-target.ts) and the request goes to that
// checked address (TLS still verifies the certificate for the host name); redirects are not followed. What is
// recorded of a failure is a short status line: never the receiver's body, which an admin could otherwise use to
// read services that answer on an address they chose.
import http from 'node:http';
import https from 'node:https';
import type { ClaimedDelivery } from '../../db/outbox.ts';
import type { Cidr } from '../../domain/addresses.ts';
import { parseIp } from '../../domain/addresses.ts';
import { eventPayload } from '../payload.ts';
import { type AttemptResult, classifyHttp } from '../retry.ts';
import { HEADER_DELIVERY, HEADER_SIGNATURE, HEADER_TIMESTAMP, signWebhook } from '../signature.ts';
import { type Resolver, resolveWebhookTarget, WebhookTargetError } from '../webhook-target.ts';

export interface WebhookOptions {
  timeoutMs: number;
  nowMs?: () => number;
  /** WEBHOOK_ALLOW_PRIVATE, parsed: private ranges a receiver may sit in. */
  allow?: readonly Cidr[];
  resolve?: Resolver;
}

export async function sendWebhook(d: ClaimedDelivery, opts: WebhookOptions): Promise<AttemptResult> {
  const { url, secret } = d.channel;
  if (!url || !secret) {
    return { ok: false, retry: false, error: 'the channel has no url or secret: PATCH /v1/channels/{id}' };
  }
  let target: Awaited<ReturnType<typeof resolveWebhookTarget>>;
  try {
    target = await resolveWebhookTarget(url, opts.allow ?? [], opts.resolve);
  } catch (err) {
    if (!(err instanceof WebhookTargetError)) throw err;
    // A refused address may become allowed (WEBHOOK_ALLOW_PRIVATE) or change in DNS: dead now, retried by hand.
    return { ok: false, retry: err.kind === 'unresolved', error: err.message };
  }
  const body = JSON.stringify(eventPayload(d.event, d.id));
  const timestampS = Math.floor((opts.nowMs?.() ?? Date.now()) / 1000);
  try {
    const { status, retryAfter } = await post(target, body, opts.timeoutMs, {
      'Content-Type': 'application/json',
      'User-Agent': 'chipwatch-webhook/1',
      [HEADER_TIMESTAMP]: String(timestampS),
      [HEADER_DELIVERY]: d.id,
      [HEADER_SIGNATURE]: signWebhook(secret, timestampS, body),
    });
    return classifyHttp(status, retryAfter);
  } catch (err) {
    return { ok: false, retry: true, error: describeError(err, opts.timeoutMs) };
  }
}

/** One POST to the checked address; resolves with the status once the answer's head arrives (its body unread). */
function post(
  target: { url: URL; address: string; family: 4 | 6 },
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<{ status: number; retryAfter: string | null }> {
  const { url } = target;
  const secure = url.protocol === 'https:';
  const hostName = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      host: target.address,
      family: target.family,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...headers, Host: url.host, 'Content-Length': Buffer.byteLength(body) },
      // TLS: SNI and the certificate check are for the name in the URL, not the address connected to.
      ...(secure && !parseIp(hostName) ? { servername: hostName } : {}),
      signal: AbortSignal.timeout(timeoutMs),
      agent: false,
    });
    req.on('response', (res) => {
      const retryAfter = res.headers['retry-after'];
      resolve({
        status: res.statusCode ?? 0,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
      });
      // The body is neither read nor kept: close the connection rather than drain a large (or endless) answer.
      res.destroy();
    });
    req.on('error', reject);
    req.end(body);
  });
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ABORT_ERR')
    return `no answer within ${timeoutMs} ms`;
  // The code alone (ECONNREFUSED, ECONNRESET, CERT_HAS_EXPIRED…): enough to fix a receiver, no more.
  return e.code ? `connection failed (${e.code})` : 'connection failed';
}
