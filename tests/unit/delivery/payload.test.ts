// Notification content: the alert as the API shows it, the event, MQTT topics, and the e-mail's parts.
import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../../../src/db/outbox.ts';
import { eventPayload, mqttTopic, renderEmail } from '../../../src/delivery/payload.ts';

const row = {
  id: 12,
  type: 'RESTRICTED_ZONE_ENTERED',
  severity: 'critical',
  status: 'open',
  subject: 'shp-1',
  shipment_id: 'shp-1',
  device_id: 'trk-1',
  site_id: null,
  opened_at: '2026-11-21T10:00:00.123456+00:00',
  last_seen_at: '2026-11-21T10:05:00+00:00',
  first_evidence_at: '2026-11-19T10:00:00+00:00',
  last_evidence_at: '2026-11-19T10:30:00+00:00',
  count: 3,
  details: { country: 'CN', note: '<script>alert(1)</script>' },
  resolved_at: null,
  resolved_by: null,
  resolution: null,
};

const outboxEvent = (over: Partial<OutboxEvent> = {}): OutboxEvent => ({
  seq: 41,
  action: 'opened',
  actor: null,
  note: null,
  late: true,
  createdAt: new Date('2026-11-21T10:05:00Z'),
  alert: row,
  ...over,
});

describe('event payload', () => {
  it('is the alert in the API shape with RFC 3339 times, plus the event', () => {
    const p = eventPayload(outboxEvent(), 'dlv-1');
    expect(p).toMatchObject({
      id: '12',
      type: 'RESTRICTED_ZONE_ENTERED',
      severity: 'critical',
      status: 'open',
      shipmentId: 'shp-1',
      deviceId: 'trk-1',
      siteId: null,
      openedAt: '2026-11-21T10:00:00.123Z',
      lastEvidenceAt: '2026-11-19T10:30:00.000Z',
      count: 3,
      details: { country: 'CN' },
      event: { id: 41, action: 'opened', at: '2026-11-21T10:05:00.000Z', late: true, deliveryId: 'dlv-1' },
    });
    expect(p).not.toHaveProperty('subject');
    expect(eventPayload(outboxEvent()).event).not.toHaveProperty('deliveryId');
  });
});

describe('MQTT topics', () => {
  const base = 'chipwatch/v1/alerts';
  const alert = eventPayload(outboxEvent());
  it('a shipment alert goes to {base}/{shipmentId}', () => {
    expect(mqttTopic(base, alert)).toBe('chipwatch/v1/alerts/shp-1');
  });
  it('a site alert to {base}/_site/{siteId}, an unbound tracker to {base}/_device/{deviceId}', () => {
    expect(mqttTopic(base, { ...alert, shipmentId: null, siteId: 'dc-ams-01' })).toBe(
      'chipwatch/v1/alerts/_site/dc-ams-01',
    );
    expect(mqttTopic(base, { ...alert, shipmentId: null })).toBe('chipwatch/v1/alerts/_device/trk-1');
  });
});

describe('e-mail', () => {
  it('marks late evidence in the subject and the body', () => {
    const mail = renderEmail(eventPayload(outboxEvent(), 'dlv-1'));
    expect(mail.subject).toBe('[late] [chipwatch] CRITICAL RESTRICTED_ZONE_ENTERED opened: shipment shp-1');
    expect(mail.text).toContain('LATE:');
    expect(mail.text).toContain('Delivery dlv-1, event 41');
  });

  it('has no [late] for fresh evidence, and names who acknowledged, with the note', () => {
    const mail = renderEmail(
      eventPayload(
        outboxEvent({ late: false, action: 'acknowledged', actor: 'alice', note: 'calling the carrier' }),
      ),
    );
    expect(mail.subject).toBe('[chipwatch] CRITICAL RESTRICTED_ZONE_ENTERED acknowledged: shipment shp-1');
    expect(mail.text).toContain('by alice');
    expect(mail.text).toContain('Note: calling the carrier');
  });

  it('escapes the alert details in the HTML part', () => {
    const mail = renderEmail(eventPayload(outboxEvent()));
    expect(mail.html).toContain('&lt;script&gt;');
    expect(mail.html).not.toContain('<script>');
  });
});
