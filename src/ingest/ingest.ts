// Ingest, wired: the MQTT session feeds the batcher, each batch goes through the pipeline, and only after its
// commit are the broker (PUBACK) and the devices (application ack) told.

import type { Config } from '../config.ts';
import { pruneRejections } from '../db/ingest-store.ts';
import type { Pool } from '../db/pool.ts';
import type { Inbound } from '../domain/messages.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { type AckSigner, signAck } from '../verify/ack.ts';
import { acquireEd25519Workers } from '../verify/ed25519-pool.ts';
import { BatchProcessor } from './batch-processor.ts';
import { Batcher } from './batcher.ts';
import { WorkerMembership } from './membership.ts';
import { type IncomingPublish, MqttSession } from './mqtt-session.ts';
import { type BatchOutcome, IngestPipeline, pipelineOptions } from './pipeline.ts';
import { attestationFilter, deviceAckTopic, siteAckTopic, telemetryFilter } from './topics.ts';

type Item = Inbound & { ack(): void };

export interface Ingest {
  session: MqttSession;
  /** False while the last database operation of ingest failed. */
  databaseUp(): boolean;
  stop(): Promise<void>;
}

export async function startIngest(deps: {
  config: Config;
  pool: Pool;
  mqttUrl: string;
  log: Logger;
  metrics: Metrics;
  geo: GeoRuntime;
  /** Signs every ack (src/verify/ack.ts); trackers verify it against GET /v1/ingest/key. */
  ackKey: AckSigner;
}): Promise<Ingest> {
  const { config, pool, log, metrics } = deps;
  let stopping = false;
  let dbUp = true;
  // Ed25519 signatures are verified by libsodium on these worker threads (VERIFY_WORKERS; 0: node:crypto).
  const verifyWorkers = acquireEd25519Workers(config.VERIFY_WORKERS, { log: log.child({ part: 'verify' }) });
  const pipeline = new IngestPipeline(pool, pipelineOptions(config), undefined, deps.geo);
  const processor = new BatchProcessor(pipeline, metrics, log, {
    stopping: () => stopping,
    onDatabase: (up) => {
      if (up !== dbUp)
        log[up ? 'info' : 'warn'](
          up ? 'database reachable again; ingest resumed' : 'database unreachable; ingest waiting',
        );
      dbUp = up;
      metrics.dbUp.set(up ? 1 : 0);
    },
  });

  let session: MqttSession;
  const batcher = new Batcher<Item>({
    maxBatch: config.INGEST_BATCH_MAX,
    maxWaitMs: config.INGEST_BATCH_MS,
    capacity: config.INGEST_QUEUE_MAX,
    concurrency: 2,
    pause: () => {
      metrics.paused.set(1);
      session.pause();
    },
    resume: () => {
      metrics.paused.set(0);
      if (!stopping) session.resume();
    },
    handle: async (items) => {
      metrics.queueDepth.set(batcher.depth);
      const outcome = await processor.process(items);
      if (!outcome) return;
      session.batchWrites(() => {
        for (const item of items) item.ack();
        const now = Date.now();
        for (const [deviceId, ack] of outcome.acks) {
          session.publish(
            deviceAckTopic(config.MQTT_TOPIC_PREFIX, deviceId),
            signAck(deps.ackKey, 'device', deviceId, ack, now),
          );
        }
        for (const [siteId, ack] of outcome.siteAcks) {
          session.publish(
            siteAckTopic(config.MQTT_TOPIC_PREFIX, siteId),
            signAck(deps.ackKey, 'site', siteId, ack, now),
          );
        }
      });
      for (const a of outcome.alerts) metrics.alerts.inc({ type: a.type, action: a.action });
      countVerdicts(metrics, outcome.verdicts);
    },
  });

  // by-sender: this worker's share of the senders, from the leases of the live workers (src/ingest/membership.ts).
  const membership =
    config.INGEST_ROUTING === 'by-sender'
      ? new WorkerMembership(
          pool,
          config.MQTT_CLIENT_ID,
          config.INGEST_WORKER_LEASE_S,
          log.child({ part: 'workers' }),
          (live) => metrics.ingestWorkers.set(live.length),
        )
      : undefined;
  session = new MqttSession({
    url: deps.mqttUrl,
    clientId: config.MQTT_CLIENT_ID,
    subscriptions: [
      telemetryFilter(config.MQTT_TOPIC_PREFIX, config.MQTT_SHARED_GROUP),
      attestationFilter(config.MQTT_TOPIC_PREFIX, config.MQTT_SHARED_GROUP),
    ],
    log: log.child({ part: 'mqtt' }),
    onPublish: (m: IncomingPublish) => {
      // Another worker owns this sender and has its own copy: confirm receipt to the broker and leave it.
      if (membership && !membership.owns(m.topic)) {
        metrics.otherWorker.inc();
        m.ack();
        return;
      }
      batcher.push({ topic: m.topic, payload: m.payload, receivedAt: Date.now(), ack: m.ack });
    },
  });
  session.on('connected', () => metrics.mqttConnected.set(1));
  session.on('disconnected', () => metrics.mqttConnected.set(0));
  try {
    await membership?.start();
    await session.start();
  } catch (e) {
    await membership?.stop();
    await verifyWorkers.release();
    throw e;
  }
  // Unauthenticated refusals are kept REJECTION_RETENTION_DAYS, checked hourly (any worker may do it; it is idempotent).
  const prune = () =>
    pruneRejections(pool, config.REJECTION_RETENTION_DAYS)
      .then((n) => n > 0 && log.info({ deleted: n }, 'old unauthenticated rejections pruned'))
      .catch((err) => log.warn({ err }, 'pruning old rejections failed; will retry in an hour'));
  const pruneTimer = setInterval(prune, 3_600_000);
  pruneTimer.unref();

  return {
    session,
    databaseUp: () => dbUp,
    stop: async () => {
      // Stop reading, commit what was taken, acknowledge it, then leave the broker.
      clearInterval(pruneTimer);
      session.pause();
      stopping = true;
      try {
        await batcher.drain();
        await session.close();
        await membership?.stop();
      } finally {
        await verifyWorkers.release();
      }
    },
  };
}

/** The batch's verdicts into the counters: one increment per label set, not per message (a label lookup each). */
function countVerdicts(metrics: Metrics, verdicts: BatchOutcome['verdicts']): void {
  const outcomes = new Map<string, number>();
  const reasons = new Map<string, number>();
  let records = 0;
  for (const v of verdicts) {
    outcomes.set(v.kind, (outcomes.get(v.kind) ?? 0) + 1);
    if (v.kind === 'accepted') records += v.records;
    else if (v.kind === 'rejected') reasons.set(v.reason, (reasons.get(v.reason) ?? 0) + 1);
  }
  for (const [outcome, n] of outcomes) metrics.messages.inc({ outcome }, n);
  for (const [reason, n] of reasons) metrics.rejections.inc({ reason }, n);
  if (records > 0) metrics.records.inc(records);
}
