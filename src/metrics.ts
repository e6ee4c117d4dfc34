// Prometheus metrics of the whole process, on one registry served at /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'chipwatch_process_' });
  const r = [registry];
  return {
    registry,
    messages: new Counter({
      name: 'chipwatch_ingest_messages_total',
      help: 'Messages taken from the broker, by outcome (accepted, duplicate, rejected)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    records: new Counter({
      name: 'chipwatch_ingest_records_total',
      help: 'Telemetry records stored',
      registers: r,
    }),
    rejections: new Counter({
      name: 'chipwatch_ingest_rejections_total',
      help: 'Refused messages by reason code',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    batchSize: new Histogram({
      name: 'chipwatch_ingest_batch_size',
      help: 'Messages per committed batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: r,
    }),
    commitSeconds: new Histogram({
      name: 'chipwatch_ingest_commit_seconds',
      help: 'Time to commit one batch (transaction only)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    batchRetries: new Counter({
      name: 'chipwatch_ingest_batch_retries_total',
      help: 'Batch attempts that failed and were retried (database unavailable)',
      registers: r,
    }),
    alerts: new Counter({
      name: 'chipwatch_alerts_total',
      help: 'Alert changes committed by ingest, by type and action (opened, updated, auto_resolved)',
      labelNames: ['type', 'action'] as const,
      registers: r,
    }),
    otherWorker: new Counter({
      name: 'chipwatch_ingest_other_worker_total',
      help: 'Messages left to the worker that owns their sender (INGEST_ROUTING=by-sender)',
      registers: r,
    }),
    ingestWorkers: new Gauge({
      name: 'chipwatch_ingest_workers',
      help: 'Live ingest workers sharing the senders (INGEST_ROUTING=by-sender)',
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'chipwatch_ingest_queue_depth',
      help: 'Messages waiting for a batch',
      registers: r,
    }),
    paused: new Gauge({
      name: 'chipwatch_ingest_paused',
      help: '1 while reading from the broker is paused (backpressure)',
      registers: r,
    }),
    mqttConnected: new Gauge({
      name: 'chipwatch_mqtt_connected',
      help: '1 while connected to the broker',
      registers: r,
    }),
    dbUp: new Gauge({
      name: 'chipwatch_database_up',
      help: '1 while the last database operation succeeded',
      registers: r,
    }),
    deliveriesSent: new Counter({
      name: 'chipwatch_deliveries_sent_total',
      help: 'Alert deliveries accepted by the receiver (2xx, SMTP accepted, PUBACK), by channel type',
      labelNames: ['channel_type'] as const,
      registers: r,
    }),
    deliveriesRetried: new Counter({
      name: 'chipwatch_deliveries_retried_total',
      help: 'Failed delivery attempts scheduled for a retry, by channel type',
      labelNames: ['channel_type'] as const,
      registers: r,
    }),
    deliveriesDead: new Counter({
      name: 'chipwatch_deliveries_dead_total',
      help: 'Deliveries parked as dead by this process (refused, or out of attempts), by channel type',
      labelNames: ['channel_type'] as const,
      registers: r,
    }),
    deliveryLatency: new Histogram({
      name: 'chipwatch_delivery_latency_seconds',
      help: 'Alert change committed → delivery accepted, retries included, by channel type',
      labelNames: ['channel_type'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: r,
    }),
    timescaleJobsFailed: new Gauge({
      name: 'chipwatch_timescale_jobs_failed',
      help: 'TimescaleDB background jobs (compression, aggregate refresh, retention) whose last run failed; read at each scrape',
      registers: r,
    }),
    outboxBacklog: new Gauge({
      name: 'chipwatch_outbox_backlog',
      help: 'Outbox rows by stage: unrouted events, pending deliveries, dead deliveries (whole database)',
      labelNames: ['stage'] as const,
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
