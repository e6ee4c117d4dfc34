// Which channel hears of which alert event: severity, type, shipment or customer filters, and quiet duplicates
// (an update of an open alert is sent again only when its severity rose or the channel's re-notify interval
// passed). Pure: the router feeds it rows and writes back what it returns.
import type { AlertAction, Severity } from '../domain/alerts.ts';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface RoutingChannel {
  id: string;
  minSeverity: Severity;
  /** null: every type. */
  types: string[] | null;
  /** null: no shipment filter. */
  shipmentIds: string[] | null;
  /** null: no customer filter. */
  customers: string[] | null;
  renotifyAfterS: number;
}

export interface RoutingEvent {
  id: number;
  alertId: number;
  action: AlertAction;
  type: string;
  severity: Severity;
  shipmentId: string | null;
  /** The shipment's customer, when it has one. */
  customer: string | null;
  /** When the change was committed (epoch ms). */
  createdAtMs: number;
  /** Device time of the alert's latest evidence (epoch ms), if any. */
  lastEvidenceAtMs: number | null;
}

/** What a channel was last told about one open alert. */
export interface NotifyState {
  lastNotifiedAtMs: number;
  lastSeverity: Severity;
}

/**
 * Severity and type filters must both pass. The shipment and customer filters name who the channel is for, so
 * either one matching is enough ("these shipments, and everything of these customers"); an alert that concerns no
 * shipment (a site, an unbound tracker) passes neither.
 */
export function channelMatches(ch: RoutingChannel, ev: RoutingEvent): boolean {
  if (SEVERITY_RANK[ev.severity] < SEVERITY_RANK[ch.minSeverity]) return false;
  if (ch.types && !ch.types.includes(ev.type)) return false;
  if (!ch.shipmentIds && !ch.customers) return true;
  if (ch.shipmentIds && ev.shipmentId !== null && ch.shipmentIds.includes(ev.shipmentId)) return true;
  if (ch.customers && ev.customer !== null && ch.customers.includes(ev.customer)) return true;
  return false;
}

/**
 * Quiet duplicates. Opening, acknowledging and resolving are news to whoever acts on alerts, so they always go
 * out; an update (more evidence for an alert already open) goes out only if this channel never heard of the alert,
 * its severity rose since, or `renotifyAfterS` passed since the channel was last told.
 */
export function shouldNotify(ch: RoutingChannel, ev: RoutingEvent, state: NotifyState | undefined): boolean {
  if (ev.action !== 'updated') return true;
  if (!state) return true;
  if (SEVERITY_RANK[ev.severity] > SEVERITY_RANK[state.lastSeverity]) return true;
  return ev.createdAtMs - state.lastNotifiedAtMs >= ch.renotifyAfterS * 1000;
}

/**
 * Late: the evidence was already older than `lateAfterS` when chipwatch first saw it (a tracker's offline buffer
 * arriving days later). Human transitions (acknowledge, resolve) are never late.
 */
export function isLate(ev: RoutingEvent, lateAfterS: number): boolean {
  if (ev.action === 'acknowledged' || ev.action === 'resolved') return false;
  if (ev.lastEvidenceAtMs === null) return false;
  return ev.createdAtMs - ev.lastEvidenceAtMs > lateAfterS * 1000;
}

export const stateKey = (channelId: string, alertId: number) => `${alertId}\0${channelId}`;

export interface RoutingPlan {
  /** Each event's stream position and late flag, in the order given. */
  events: { id: number; seq: number; late: boolean }[];
  deliveries: { eventId: number; channelId: string }[];
  /** Notify state to write, by stateKey. */
  notified: Map<string, { channelId: string; alertId: number } & NotifyState>;
  /** Alerts that ended: their notify state can go. */
  endedAlertIds: number[];
}

/** Routes `events` (in commit order) to `channels`, numbering them from `firstSeq`; `states` is keyed by stateKey. */
export function planRouting(
  events: RoutingEvent[],
  channels: RoutingChannel[],
  states: ReadonlyMap<string, NotifyState>,
  opts: { firstSeq: number; lateAfterS: number },
): RoutingPlan {
  const plan: RoutingPlan = { events: [], deliveries: [], notified: new Map(), endedAlertIds: [] };
  const current = new Map(states);
  events.forEach((ev, i) => {
    plan.events.push({ id: ev.id, seq: opts.firstSeq + i, late: isLate(ev, opts.lateAfterS) });
    for (const ch of channels) {
      if (!channelMatches(ch, ev)) continue;
      const key = stateKey(ch.id, ev.alertId);
      if (!shouldNotify(ch, ev, current.get(key))) continue;
      plan.deliveries.push({ eventId: ev.id, channelId: ch.id });
      const next = { lastNotifiedAtMs: ev.createdAtMs, lastSeverity: ev.severity };
      current.set(key, next);
      plan.notified.set(key, { channelId: ch.id, alertId: ev.alertId, ...next });
    }
    if (ev.action === 'resolved' || ev.action === 'auto_resolved') {
      plan.endedAlertIds.push(ev.alertId);
      for (const ch of channels) plan.notified.delete(stateKey(ch.id, ev.alertId));
    }
  });
  return plan;
}
