// E-mail channel: one message per delivery to the channel's list, plain text and HTML, over SMTP (nodemailer,
// SMTP_URL). The delivery id is the Message-ID, so a mail system can spot a resent duplicate.
import nodemailer from 'nodemailer';
import type { ClaimedDelivery } from '../../db/outbox.ts';
import { eventPayload, renderEmail } from '../payload.ts';
import type { AttemptResult } from '../retry.ts';

export interface EmailSender {
  send(d: ClaimedDelivery): Promise<AttemptResult>;
  close(): void;
}

export function createEmailSender(opts: { smtpUrl?: string; from: string; timeoutMs: number }): EmailSender {
  let transport: ReturnType<typeof nodemailer.createTransport> | undefined;
  const transportFor = (url: string) => {
    transport ??= nodemailer.createTransport({
      url,
      pool: true,
      maxConnections: 3,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
    });
    return transport;
  };
  return {
    async send(d) {
      if (!opts.smtpUrl) {
        return {
          ok: false,
          retry: false,
          error: 'SMTP_URL is not set on the dispatcher: set it, restart, then retry the delivery',
        };
      }
      const to = d.channel.recipients ?? [];
      if (to.length === 0) return { ok: false, retry: false, error: 'the channel has no recipients' };
      const mail = renderEmail(eventPayload(d.event, d.id));
      try {
        // One overall deadline: nodemailer's timeouts apply per SMTP step, and a slow server must not hold the
        // claim past its lease (another dispatcher would then send the same mail again).
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${opts.timeoutMs * 2} ms`)),
            opts.timeoutMs * 2,
          );
        });
        const info = await Promise.race([
          transportFor(opts.smtpUrl).sendMail({
            from: opts.from,
            to,
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            messageId: `<${d.id}@chipwatch>`,
            headers: { 'X-Chipwatch-Delivery': d.id },
          }),
          deadline,
        ]).finally(() => clearTimeout(timer));
        return recipientsOutcome(
          info as { rejected?: unknown[]; rejectedErrors?: { responseCode?: number }[] },
        );
      } catch (err) {
        const e = err as { message?: string; response?: string; responseCode?: number; permanent?: boolean };
        // nodemailer marks 5xx replies (but 503) permanent: the same message would be refused again.
        return {
          ok: false,
          retry: e.permanent !== true,
          error: `SMTP: ${e.response ?? e.message ?? String(err)}`,
          ...(e.responseCode ? { status: e.responseCode } : {}),
        };
      }
    },
    close() {
      transport?.close();
    },
  };
}

/**
 * sendMail succeeds when any recipient is accepted. A recipient deferred (4xx, e.g. greylisting) is retried: the
 * whole message goes again (at-least-once; the Message-ID is the delivery id, so mail systems can spot the copy).
 * Recipients refused for good (5xx) cannot be helped by a retry: the delivery counts, with the refusal recorded.
 */
export function recipientsOutcome(info: {
  rejected?: unknown[];
  rejectedErrors?: { responseCode?: number }[];
}): AttemptResult {
  const rejected = (info.rejected ?? []).map(String);
  if (rejected.length === 0) return { ok: true };
  const codes = (info.rejectedErrors ?? []).map((e) => e.responseCode ?? 0);
  const deferred = codes.length === 0 || codes.some((c) => c < 500);
  const error = `SMTP refused ${rejected.join(', ')}${codes.length ? ` (${codes.join(', ')})` : ''}`;
  return deferred ? { ok: false, retry: true, error } : { ok: true, note: error };
}
