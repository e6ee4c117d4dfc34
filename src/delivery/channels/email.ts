// E-mail channel: one message per delivery to the channel's list, plain text and HTML, over SMTP (nodemailer,
// SMTP_URL). The delivery id is the Message-ID, so a mail system can spot a resent duplicate.
import nodemailer from 'nodemailer';
import type { ClaimedDelivery } from '../outbox.ts';
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
        await transportFor(opts.smtpUrl).sendMail({
          from: opts.from,
          to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${d.id}@chipwatch>`,
          headers: { 'X-Chipwatch-Delivery': d.id },
        });
        return { ok: true };
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
