// Webhook channel: POST the event as JSON, signed per DESIGN.md (timestamp, delivery id, HMAC over
// "{timestamp}.{body}"), with a timeout; the HTTP status decides delivered / retry / dead (retry.ts).
import type { ClaimedDelivery } from '../../db/outbox.ts';
import { eventPayload } from '../payload.ts';
import { type AttemptResult, classifyHttp } from '../retry.ts';
import { HEADER_DELIVERY, HEADER_SIGNATURE, HEADER_TIMESTAMP, signWebhook } from '../signature.ts';

export async function sendWebhook(
  d: ClaimedDelivery,
  opts: { timeoutMs: number; nowMs?: () => number },
): Promise<AttemptResult> {
  const { url, secret } = d.channel;
  if (!url || !secret) {
    return { ok: false, retry: false, error: 'the channel has no url or secret: PATCH /v1/channels/{id}' };
  }
  const body = JSON.stringify(eventPayload(d.event, d.id));
  const timestampS = Math.floor((opts.nowMs?.() ?? Date.now()) / 1000);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'chipwatch-webhook/1',
        [HEADER_TIMESTAMP]: String(timestampS),
        [HEADER_DELIVERY]: d.id,
        [HEADER_SIGNATURE]: signWebhook(secret, timestampS, body),
      },
      body,
      // A redirect would turn the POST into a GET or send the body elsewhere: the channel's URL must be final.
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const result = classifyHttp(res.status, res.headers.get('retry-after'));
    if (result.ok) {
      await res.body?.cancel();
      return result;
    }
    const text = (await readAtMost(res, 1024)).trim().slice(0, 200);
    return text ? { ...result, error: `${result.error}: ${text}` } : result;
  } catch (err) {
    return { ok: false, retry: true, error: describeFetchError(err, opts.timeoutMs) };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

/** The start of an error answer's body, without reading a large (or endless) body into memory. */
async function readAtMost(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short still gave us what we read.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
