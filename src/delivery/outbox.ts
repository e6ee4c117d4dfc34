// The alert outbox (its SQL: src/db/outbox.ts, outbox-routing.ts). What is promised, and what can be lost when:
// - enqueue: an alert change and its outbox row commit in one transaction (the caller's), so a notification
//   exists exactly when the change does; a crash before commit loses both, after commit neither.
// - route: one router at a time (advisory lock) numbers committed rows (`seq`, the SSE id, in commit order of the
//   router's transactions), marks late ones and writes one delivery per (event, matching channel) — one
//   transaction, so a crash re-routes the whole batch later, never half of it.
// - claim: dispatchers take due deliveries with FOR UPDATE SKIP LOCKED and push their due time one lease ahead,
//   then send outside any transaction. A dispatcher dying mid-send leaves the row to be claimed again when the
//   lease ends: the receiver may get it twice (same X-Chipwatch-Delivery id: at least once, deduped by the id).
// - complete: the result is written only if the row is still at the attempt this dispatcher claimed, so a stale
//   dispatcher (lease expired, row re-claimed) cannot overwrite a newer outcome.
import { type DeliveryOutcome, latestSeq, pruneDelivered, pruneEvents } from '../db/outbox.ts';
import {
  deleteNotifyStates,
  insertDeliveries,
  notifyRouted,
  notifyStates,
  numberEvents,
  routableChannels,
  tryLockRouter,
  unroutedEvents,
  upsertNotifyStates,
} from '../db/outbox-routing.ts';
import { type Pool, withTransaction } from '../db/pool.ts';
import type { NextStep } from './retry.ts';
import { type NotifyState, planRouting, stateKey } from './routing.ts';

/**
 * Routes up to `batch` unrouted events; `busy` when another process holds the router lock (it will do the work).
 */
export async function routeEvents(
  pool: Pool,
  opts: { batch: number; lateAfterS: number },
): Promise<{ routed: number; deliveries: number; busy: boolean }> {
  return withTransaction(pool, async (c) => {
    if (!(await tryLockRouter(c))) return { routed: 0, deliveries: 0, busy: true };
    const events = await unroutedEvents(c, opts.batch);
    if (events.length === 0) return { routed: 0, deliveries: 0, busy: false };
    const channels = await routableChannels(c);
    const st = await notifyStates(c, [...new Set(events.map((e) => e.alertId))]);
    const states = new Map<string, NotifyState>(
      st.map((r) => [
        stateKey(r.channelId, r.alertId),
        { lastNotifiedAtMs: r.lastNotifiedAtMs, lastSeverity: r.lastSeverity },
      ]),
    );
    // Safe under the router lock: every numbered row is committed, and no one else numbers.
    const plan = planRouting(events, channels, states, {
      firstSeq: (await latestSeq(c)) + 1,
      lateAfterS: opts.lateAfterS,
    });
    await numberEvents(c, plan.events);
    await insertDeliveries(c, plan.deliveries);
    await deleteNotifyStates(c, plan.endedAlertIds);
    await upsertNotifyStates(c, [...plan.notified.values()]);
    await notifyRouted(c, plan.events.at(-1)!.seq);
    return { routed: events.length, deliveries: plan.deliveries.length, busy: false };
  });
}

/** A claimed attempt's outcome, as the retry policy decided it. */
export interface Completion {
  id: string;
  attempt: number;
  step: NextStep;
}

/** A completion as the deliveries table stores it (errors cut to 2,000 characters). */
export function deliveryOutcome(x: Completion): DeliveryOutcome {
  return {
    id: x.id,
    attempt: x.attempt,
    status: x.step.status,
    delayMs: x.step.status === 'pending' ? x.step.delayMs : 0,
    error: x.step.status === 'delivered' ? (x.step.note ?? null) : x.step.error.slice(0, 2000),
    httpStatus: x.step.status === 'delivered' ? null : (x.step.httpStatus ?? null),
  };
}

/**
 * Retention: delivered notifications older than `days`, then outbox events that are routed, as old, and have no
 * delivery left (dead ones are kept until retried or their channel is gone), are deleted. Alerts and their audit
 * trail — the evidence — are never touched. An SSE client resuming from an event older than this starts at the
 * oldest one kept.
 */
export async function pruneOutbox(pool: Pool, days: number): Promise<{ deliveries: number; events: number }> {
  const deliveries = await pruneDelivered(pool, days);
  const events = await pruneEvents(pool, days);
  return { deliveries, events };
}
