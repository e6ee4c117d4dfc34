// The dispatcher: wakes on NOTIFY (or every DISPATCH_POLL_MS), routes new outbox events to channels, then claims due
// deliveries, sends them in the background (a bounded number in flight), and records each outcome as it comes —
// delivered, retried with backoff, or dead. Any number of dispatchers may share one database: routing is serialised by an advisory lock, deliveries
// are claimed with FOR UPDATE SKIP LOCKED (outbox.ts says what can be lost or repeated when).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import { NOTIFY_OUTBOX } from '../db/channels.ts';
import { PgListener } from '../db/listen.ts';
import { type ClaimedDelivery, claimDeliveries, completeDeliveries, outboxBacklog } from '../db/outbox.ts';
import { isTransientDbError, type Pool } from '../db/pool.ts';
import type { Cidr } from '../domain/addresses.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { createEmailSender } from './channels/email.ts';
import { createMqttSender } from './channels/mqtt.ts';
import { sendWebhook } from './channels/webhook.ts';
import { type Completion, deliveryOutcome, pruneOutbox, routeEvents } from './outbox.ts';
import type { AttemptResult } from './retry.ts';
import { nextStep, type RetryPolicy } from './retry.ts';
import { parseAllowList } from './webhook-target.ts';

export interface DispatcherSettings {
  pollMs: number;
  batch: number;
  retry: RetryPolicy;
  webhookTimeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE: private ranges a webhook may reach. */
  webhookAllow: Cidr[];
  smtpUrl: string | undefined;
  smtpFrom: string;
  lateAfterS: number;
  /** Delivered rows and their events older than this are pruned (hourly). */
  retentionDays: number;
  mqttUrl: string;
  topicPrefix: string;
}

export function dispatcherSettings(config: Config, mqttUrl: string): DispatcherSettings {
  return {
    pollMs: config.DISPATCH_POLL_MS,
    batch: config.DISPATCH_BATCH,
    retry: {
      maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
      baseMs: config.DELIVERY_BACKOFF_BASE_MS,
      maxMs: config.DELIVERY_BACKOFF_MAX_MS,
    },
    webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
    webhookAllow: parseAllowList(config.WEBHOOK_ALLOW_PRIVATE),
    smtpUrl: config.SMTP_URL,
    smtpFrom: config.SMTP_FROM,
    lateAfterS: config.ALERT_LATE_AFTER_S,
    retentionDays: config.DELIVERY_RETENTION_DAYS,
    mqttUrl,
    topicPrefix: config.MQTT_TOPIC_PREFIX,
  };
}

const ROUTE_BATCH = 500;
const PRUNE_EVERY_MS = 3_600_000;
const MIN_TICK_GAP_MS = 20;

export interface Dispatcher {
  readonly workerId: string;
  /** Look for work now (also done on NOTIFY and every pollMs). */
  wake(): void;
  /** Stops claiming, lets the attempts in flight finish (each bounded by its timeout), closes connections. */
  stop(): Promise<void>;
}

export function startDispatcher(opts: {
  pool: Pool;
  databaseUrl: string;
  settings: DispatcherSettings;
  log: Logger;
  metrics: Metrics;
}): Dispatcher {
  const { pool, settings: s, log, metrics } = opts;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  // A claim is this dispatcher's for the lease: longer than any attempt, so a row is re-sent only if we died.
  const leaseMs = 4 * s.webhookTimeoutMs + 30_000;
  const email = createEmailSender({ smtpUrl: s.smtpUrl, from: s.smtpFrom, timeoutMs: s.webhookTimeoutMs });
  const mqtt = createMqttSender({
    url: s.mqttUrl,
    topicPrefix: s.topicPrefix,
    timeoutMs: s.webhookTimeoutMs,
    clientId: `chipwatch-notify-${randomBytes(4).toString('hex')}`,
  });

  let stopped = false;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const listener = new PgListener(opts.databaseUrl, [NOTIFY_OUTBOX], wake, log);

  const send = (d: ClaimedDelivery): Promise<AttemptResult> => {
    switch (d.channel.type) {
      case 'webhook':
        return sendWebhook(d, { timeoutMs: s.webhookTimeoutMs, allow: s.webhookAllow });
      case 'email':
        return email.send(d);
      case 'mqtt':
        return mqtt.send(d);
    }
  };

  const attempt = async (d: ClaimedDelivery): Promise<Completion> => {
    const result = await send(d).catch(
      (err: Error): AttemptResult => ({ ok: false, retry: true, error: `internal: ${err.message}` }),
    );
    return { id: d.id, attempt: d.attempt, step: nextStep(result, d.budgetAttempt, s.retry) };
  };

  const count = (claimed: ClaimedDelivery[], done: Completion[]) => {
    done.forEach((c, i) => {
      const d = claimed[i]!;
      const channelType = d.channel.type;
      if (c.step.status === 'delivered') {
        metrics.deliveriesSent.inc({ channel_type: channelType });
        metrics.deliveryLatency.observe(
          { channel_type: channelType },
          (Date.now() - d.event.createdAt.getTime()) / 1000,
        );
      } else if (c.step.status === 'pending') {
        metrics.deliveriesRetried.inc({ channel_type: channelType });
        log.debug(
          { delivery: d.id, channel: d.channel.id, attempt: d.attempt, error: c.step.error },
          'delivery failed; will retry',
        );
      } else {
        metrics.deliveriesDead.inc({ channel_type: channelType });
        log.warn(
          { delivery: d.id, channel: d.channel.id, attempts: d.attempt, error: c.step.error },
          'delivery dead: see GET /v1/deliveries?status=dead, retry with POST /v1/deliveries/{id}/retry',
        );
      }
    });
  };

  const inflight = new Set<Promise<void>>();
  let lastBacklogAt = 0;
  let lastPruneAt = 0;
  const tick = async () => {
    for (;;) {
      const r = await routeEvents(pool, { batch: ROUTE_BATCH, lateAfterS: s.lateAfterS });
      if (r.busy || r.routed < ROUTE_BATCH) break;
    }
    // Claimed deliveries are sent in the background, up to DISPATCH_BATCH in flight, and each outcome is recorded
    // as soon as it is known: a receiver that hangs until its timeout holds its own rows, while the next ticks
    // keep routing new alerts and sending them to every other channel.
    while (!stopped && inflight.size < s.batch) {
      const claimed = await claimDeliveries(pool, { batch: s.batch - inflight.size, leaseMs, workerId });
      if (claimed.length === 0) break;
      for (const d of claimed) {
        const task: Promise<void> = (async () => {
          const done = await attempt(d);
          try {
            await completeDeliveries(pool, [deliveryOutcome(done)]);
            count([d], [done]);
          } catch (err) {
            // Not recorded: the lease runs out and the delivery is sent again (same id), as after a crash.
            log.warn({ err, delivery: d.id }, 'could not record a delivery outcome; it will be sent again');
          }
        })().finally(() => {
          inflight.delete(task);
          wake();
        });
        inflight.add(task);
      }
    }
    if (Date.now() - lastPruneAt >= PRUNE_EVERY_MS) {
      lastPruneAt = Date.now();
      const pruned = await pruneOutbox(pool, s.retentionDays);
      if (pruned.deliveries + pruned.events > 0)
        log.info(pruned, 'pruned delivered notifications past retention');
    }
    if (Date.now() - lastBacklogAt >= 1000) {
      lastBacklogAt = Date.now();
      const b = await outboxBacklog(pool);
      metrics.outboxBacklog.set({ stage: 'unrouted' }, b.unrouted);
      metrics.outboxBacklog.set({ stage: 'pending' }, b.pending);
      metrics.outboxBacklog.set({ stage: 'dead' }, b.dead);
    }
  };

  let databaseDown = false;
  const loop = async () => {
    while (!stopped) {
      woken = false;
      try {
        await tick();
        if (databaseDown) log.info('dispatcher: database back; delivering');
        databaseDown = false;
      } catch (err) {
        // The database being away is expected (the outbox waits for it): said once, not every poll. Anything
        // else is a bug worth a loud log each time.
        if (!isTransientDbError(err)) log.error({ err }, 'dispatcher tick failed');
        else if (!databaseDown) log.warn({ err }, 'dispatcher: database unavailable; retrying every poll');
        databaseDown ||= isTransientDbError(err);
      }
      if (stopped) break;
      if (woken) {
        // Ingest may notify on every batch: coalesce wake-ups rather than spin on the database.
        await new Promise((r) => setTimeout(r, MIN_TICK_GAP_MS));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, s.pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  };

  listener.start();
  const running = loop();
  log.info({ workerId, pollMs: s.pollMs, batch: s.batch }, 'alert dispatcher started');

  return {
    workerId,
    wake,
    stop: async () => {
      stopped = true;
      wake();
      await running;
      // Attempts in flight finish (each bounded by its timeout) and are recorded.
      await Promise.all([...inflight]);
      // Ingest stopped before us: number its last batch's events, so SSE clients of other processes see them now
      // (their deliveries go out from whichever dispatcher runs next).
      await routeEvents(pool, { batch: ROUTE_BATCH, lateAfterS: s.lateAfterS }).catch((err) => {
        if (!isTransientDbError(err)) log.warn({ err }, 'dispatcher: last routing pass failed');
      });
      await listener.close();
      email.close();
      await mqtt.close();
    },
  };
}
