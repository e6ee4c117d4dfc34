// What a notification says: the alert as the API shows it plus the event (action, late…), as JSON for webhooks,
// MQTT and SSE, and as a plain-text + HTML e-mail. Pure.

import { explainAlert } from '../alerts/explain.ts';
import { alertView } from '../db/alerts.ts';
import type { OutboxEvent } from '../db/outbox.ts';
import type { AlertAction, AlertView } from '../domain/alerts.ts';

export interface EventPayload extends AlertView {
  event: {
    /** The stream position (SSE `id:`), the same for every channel. */
    id: number;
    action: AlertAction;
    /** When the change was committed. */
    at: string;
    late: boolean;
    actor: string | null;
    note: string | null;
    /** The idempotency key of this delivery (absent on the SSE stream). */
    deliveryId?: string;
  };
}

export function eventPayload(e: OutboxEvent, deliveryId?: string): EventPayload {
  return {
    ...alertView(e.alert),
    event: {
      id: e.seq,
      action: e.action,
      at: e.createdAt.toISOString(),
      late: e.late,
      actor: e.actor,
      note: e.note,
      ...(deliveryId ? { deliveryId } : {}),
    },
  };
}

/**
 * MQTT topic of an alert: `{base}/{shipmentId}`; alerts about no shipment go to `{base}/_site/{siteId}` or
 * `{base}/_device/{deviceId}`. Ids hold no `/`, so these two-level topics never collide with a shipment's, and
 * `{base}/+` subscribes to shipments only.
 */
export function mqttTopic(base: string, a: AlertView): string {
  if (a.shipmentId) return `${base}/${a.shipmentId}`;
  if (a.siteId) return `${base}/_site/${a.siteId}`;
  return `${base}/_device/${a.deviceId ?? 'unknown'}`;
}

const subjectOf = (a: AlertView) =>
  a.shipmentId
    ? `shipment ${a.shipmentId}`
    : a.siteId
      ? `site ${a.siteId}`
      : a.deviceId
        ? `device ${a.deviceId}`
        : `alert ${a.id}`;

const ACTION_WORDS: Record<AlertAction, string> = {
  opened: 'opened',
  updated: 'updated',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  auto_resolved: 'resolved automatically',
};

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );

/** Subject, plain text and HTML of one notification; "[late]" leads the subject of late evidence. */
export function renderEmail(p: EventPayload): EmailContent {
  const { event } = p;
  const subject = `${event.late ? '[late] ' : ''}[chipwatch] ${p.severity.toUpperCase()} ${p.type} ${ACTION_WORDS[event.action]}: ${subjectOf(p)}`;
  const rows: [string, string][] = [
    ['Alert', `${p.type} (#${p.id})`],
    ['Severity', p.severity],
    ['Status', p.status],
    ['Event', `${ACTION_WORDS[event.action]} at ${event.at}${event.actor ? ` by ${event.actor}` : ''}`],
    ...(event.note ? ([['Note', event.note]] as [string, string][]) : []),
    ...(p.shipmentId ? ([['Shipment', p.shipmentId]] as [string, string][]) : []),
    ...(p.deviceId ? ([['Device', p.deviceId]] as [string, string][]) : []),
    ...(p.siteId ? ([['Site', p.siteId]] as [string, string][]) : []),
    ['Opened', p.openedAt],
    ['Evidence', `${p.firstEvidenceAt ?? '?'} … ${p.lastEvidenceAt ?? '?'} (${p.count} time(s))`],
  ];
  const lateLine = event.late
    ? 'LATE: this evidence was already old when chipwatch received it (a tracker sending its offline buffer).'
    : '';
  const details = JSON.stringify(p.details, null, 2);
  const explanation = explainAlert(p);
  const text = [
    ...(lateLine ? [lateLine, ''] : []),
    explanation,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    'Details:',
    details,
    '',
    `Delivery ${event.deliveryId ?? '-'}, event ${event.id}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<h2>${escapeHtml(subject)}</h2>`,
    lateLine ? `<p><strong>${escapeHtml(lateLine)}</strong></p>` : '',
    `<p>${escapeHtml(explanation)}</p>`,
    '<table>',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    `<pre>${escapeHtml(details)}</pre>`,
    `<p style="color: #777">Delivery ${escapeHtml(event.deliveryId ?? '-')}, event ${event.id}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}
