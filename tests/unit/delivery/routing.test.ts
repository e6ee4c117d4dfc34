// Routing rules and quiet duplicates, as pure decisions over channels, events and what was sent before.
import { describe, expect, it } from 'vitest';
import {
  channelMatches,
  isLate,
  type NotifyState,
  planRouting,
  type RoutingChannel,
  type RoutingEvent,
  shouldNotify,
  stateKey,
} from '../../../src/delivery/routing.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const MIN = 60_000;

const channel = (over: Partial<RoutingChannel> = {}): RoutingChannel => ({
  id: 'ch-1',
  minSeverity: 'info',
  types: null,
  shipmentIds: null,
  customers: null,
  renotifyAfterS: 3600,
  ...over,
});

let nextId = 1;
const event = (over: Partial<RoutingEvent> = {}): RoutingEvent => ({
  id: nextId++,
  alertId: 7,
  action: 'opened',
  type: 'ROUTE_DEVIATION',
  severity: 'warning',
  shipmentId: 'shp-1',
  customer: 'acme',
  createdAtMs: T0,
  lastEvidenceAtMs: T0 - MIN,
  ...over,
});

describe('channel filters', () => {
  it('a channel without filters hears of everything', () => {
    expect(channelMatches(channel(), event())).toBe(true);
    expect(channelMatches(channel(), event({ shipmentId: null, customer: null }))).toBe(true);
  });

  it('minSeverity drops anything below it', () => {
    const criticalOnly = channel({ minSeverity: 'critical' });
    expect(channelMatches(criticalOnly, event({ severity: 'warning' }))).toBe(false);
    expect(channelMatches(criticalOnly, event({ severity: 'critical' }))).toBe(true);
    expect(channelMatches(channel({ minSeverity: 'warning' }), event({ severity: 'info' }))).toBe(false);
  });

  it('types keeps only the listed alert types', () => {
    const ch = channel({ types: ['RESTRICTED_ZONE_ENTERED', 'TAMPER'] });
    expect(channelMatches(ch, event({ type: 'TAMPER' }))).toBe(true);
    expect(channelMatches(ch, event({ type: 'ROUTE_DEVIATION' }))).toBe(false);
  });

  it('shipmentIds keeps only those shipments; alerts about no shipment do not pass', () => {
    const ch = channel({ shipmentIds: ['shp-1'] });
    expect(channelMatches(ch, event({ shipmentId: 'shp-1' }))).toBe(true);
    expect(channelMatches(ch, event({ shipmentId: 'shp-2' }))).toBe(false);
    expect(channelMatches(ch, event({ shipmentId: null, customer: null }))).toBe(false);
  });

  it('customers keeps only the shipments of those customers', () => {
    const ch = channel({ customers: ['acme'] });
    expect(channelMatches(ch, event({ customer: 'acme' }))).toBe(true);
    expect(channelMatches(ch, event({ customer: 'globex' }))).toBe(false);
    expect(channelMatches(ch, event({ customer: null }))).toBe(false);
  });

  it('shipmentIds and customers together: either one naming the alert is enough', () => {
    const ch = channel({ shipmentIds: ['shp-9'], customers: ['acme'] });
    expect(channelMatches(ch, event({ shipmentId: 'shp-9', customer: 'globex' }))).toBe(true);
    expect(channelMatches(ch, event({ shipmentId: 'shp-1', customer: 'acme' }))).toBe(true);
    expect(channelMatches(ch, event({ shipmentId: 'shp-1', customer: 'globex' }))).toBe(false);
  });

  it('severity and type must pass as well as the shipment filter', () => {
    const ch = channel({ shipmentIds: ['shp-1'], minSeverity: 'critical' });
    expect(channelMatches(ch, event({ shipmentId: 'shp-1', severity: 'warning' }))).toBe(false);
  });
});

describe('quiet duplicates', () => {
  const seen: NotifyState = { lastNotifiedAtMs: T0, lastSeverity: 'warning' };

  it('opened, acknowledged, resolved and auto_resolved always notify', () => {
    for (const action of ['opened', 'acknowledged', 'resolved', 'auto_resolved'] as const) {
      expect(shouldNotify(channel(), event({ action, createdAtMs: T0 + MIN }), seen)).toBe(true);
    }
  });

  it('an update within the re-notify interval stays quiet', () => {
    expect(shouldNotify(channel(), event({ action: 'updated', createdAtMs: T0 + 59 * MIN }), seen)).toBe(
      false,
    );
  });

  it('an update after the re-notify interval notifies again', () => {
    expect(shouldNotify(channel(), event({ action: 'updated', createdAtMs: T0 + 60 * MIN }), seen)).toBe(
      true,
    );
    const every5 = channel({ renotifyAfterS: 300 });
    expect(shouldNotify(every5, event({ action: 'updated', createdAtMs: T0 + 5 * MIN }), seen)).toBe(true);
  });

  it('an update whose severity rose notifies at once', () => {
    const rose = event({ action: 'updated', severity: 'critical', createdAtMs: T0 + MIN });
    expect(shouldNotify(channel(), rose, seen)).toBe(true);
  });

  it('an update of an alert the channel never heard of notifies', () => {
    expect(shouldNotify(channel(), event({ action: 'updated' }), undefined)).toBe(true);
  });

  it('renotifyAfterS 0 sends every update', () => {
    const chatty = channel({ renotifyAfterS: 0 });
    expect(shouldNotify(chatty, event({ action: 'updated', createdAtMs: T0 }), seen)).toBe(true);
  });
});

describe('late evidence', () => {
  it('evidence older than the threshold when first seen is late', () => {
    expect(isLate(event({ lastEvidenceAtMs: T0 - 2 * 3600_000 }), 3600)).toBe(true);
    expect(isLate(event({ lastEvidenceAtMs: T0 - 59 * MIN }), 3600)).toBe(false);
    expect(isLate(event({ action: 'auto_resolved', lastEvidenceAtMs: T0 - 2 * 86_400_000 }), 3600)).toBe(
      true,
    );
  });

  it('a person acknowledging or resolving is never late, nor an alert without evidence time', () => {
    const old = T0 - 2 * 86_400_000;
    expect(isLate(event({ action: 'acknowledged', lastEvidenceAtMs: old }), 3600)).toBe(false);
    expect(isLate(event({ action: 'resolved', lastEvidenceAtMs: old }), 3600)).toBe(false);
    expect(isLate(event({ lastEvidenceAtMs: null }), 3600)).toBe(false);
  });
});

describe('planRouting', () => {
  const ops = channel({ id: 'ops' });
  const critical = channel({ id: 'crit', minSeverity: 'critical' });
  const opts = { firstSeq: 41, lateAfterS: 3600 };

  it('numbers events from firstSeq in the order given and marks late ones', () => {
    const plan = planRouting(
      [event({ id: 10 }), event({ id: 9, alertId: 8, lastEvidenceAtMs: T0 - 3 * 3600_000 })],
      [],
      new Map(),
      opts,
    );
    expect(plan.events).toEqual([
      { id: 10, seq: 41, late: false },
      { id: 9, seq: 42, late: true },
    ]);
    expect(plan.deliveries).toEqual([]);
  });

  it('an opened alert followed by quick updates reaches each matching channel once, then again after the interval', () => {
    const evs = [
      event({ id: 1, action: 'opened', createdAtMs: T0 }),
      event({ id: 2, action: 'updated', createdAtMs: T0 + 10 * MIN }),
      event({ id: 3, action: 'updated', createdAtMs: T0 + 30 * MIN }),
      event({ id: 4, action: 'updated', createdAtMs: T0 + 61 * MIN }),
    ];
    const plan = planRouting(evs, [ops, critical], new Map(), opts);
    expect(plan.deliveries).toEqual([
      { eventId: 1, channelId: 'ops' },
      { eventId: 4, channelId: 'ops' },
    ]);
    expect(plan.notified.get(stateKey('ops', 7))).toMatchObject({ lastNotifiedAtMs: T0 + 61 * MIN });
  });

  it('uses what earlier batches sent: an update soon after a notification stays quiet', () => {
    const states = new Map([
      [stateKey('ops', 7), { lastNotifiedAtMs: T0, lastSeverity: 'warning' as const }],
    ]);
    const plan = planRouting([event({ action: 'updated', createdAtMs: T0 + MIN })], [ops], states, opts);
    expect(plan.deliveries).toEqual([]);
    expect(plan.notified.size).toBe(0);
  });

  it('a resolved alert is always sent and its notify state dropped', () => {
    const states = new Map([
      [stateKey('ops', 7), { lastNotifiedAtMs: T0, lastSeverity: 'warning' as const }],
    ]);
    const plan = planRouting(
      [event({ id: 5, action: 'auto_resolved', createdAtMs: T0 + MIN })],
      [ops],
      states,
      opts,
    );
    expect(plan.deliveries).toEqual([{ eventId: 5, channelId: 'ops' }]);
    expect(plan.endedAlertIds).toEqual([7]);
    expect(plan.notified.size).toBe(0);
  });

  it('sends each event only to the channels whose filters match', () => {
    const plan = planRouting(
      [
        event({ id: 1, severity: 'warning' }),
        event({ id: 2, alertId: 8, severity: 'critical', type: 'TAMPER' }),
      ],
      [ops, critical],
      new Map(),
      opts,
    );
    expect(plan.deliveries).toEqual([
      { eventId: 1, channelId: 'ops' },
      { eventId: 2, channelId: 'ops' },
      { eventId: 2, channelId: 'crit' },
    ]);
  });
});
