// /healthz, /readyz, /metrics: liveness, readiness and Prometheus metrics, public.
import type { FailedJob } from '../../db/timescale.ts';
import type { Metrics } from '../../metrics.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';

export interface Health {
  /** Database answers a query now. */
  database(): Promise<boolean>;
  /** Broker connection of ingest is up (true when this process runs no ingest). */
  broker(): boolean;
  /** TimescaleDB background jobs whose last run failed; null without TimescaleDB. Absent: not reported. */
  timescaleJobs?(): Promise<FailedJob[] | null>;
}

/** Failed TimescaleDB jobs, or null when there is no TimescaleDB or the question cannot be answered now. */
async function failedJobs(health: Health): Promise<FailedJob[] | null> {
  return health.timescaleJobs ? health.timescaleJobs().catch(() => null) : null;
}

/** Liveness, readiness and metrics: public, documented like every other route. */
export function healthRouter(health: Health, metrics: Metrics) {
  const r = createRouter();
  const readiness = z.object({
    status: z.enum(['ready', 'not ready']),
    database: z.boolean(),
    broker: z.boolean(),
    timescale: z
      .object({
        failedJobs: z.array(
          z.object({
            jobId: z.number(),
            proc: z.string().openapi({ example: 'policy_compression' }),
            table: z.string().nullable(),
            lastRunAt: z.string().nullable(),
            totalFailures: z.number(),
          }),
        ),
      })
      .optional()
      .openapi({
        description:
          "TimescaleDB's background jobs whose last run failed (compression, aggregate refresh, retention): data stays uncompressed or is kept longer. Reported, not a reason to be unready. Absent without TimescaleDB.",
      }),
  });
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/healthz',
      roles: 'public',
      summary: 'Liveness: the process answers',
      responses: { 200: json(z.object({ status: z.literal('ok') }), 'alive') },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/readyz',
      roles: 'public',
      summary: "Readiness: the database answers and ingest's last batch reached it; the broker is connected",
      responses: { 200: json(readiness, 'ready'), 503: json(readiness, 'not ready') },
    }),
    async (c) => {
      const [database, broker] = [await health.database(), health.broker()];
      const jobs = database ? await failedJobs(health) : null;
      const body = { database, broker, ...(jobs ? { timescale: { failedJobs: jobs } } : {}) };
      return database && broker
        ? c.json({ status: 'ready' as const, ...body }, 200)
        : c.json({ status: 'not ready' as const, ...body }, 503);
    },
  );
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/metrics',
      roles: 'public',
      summary: 'Prometheus metrics',
      responses: {
        200: {
          description: 'Prometheus text exposition format',
          content: { 'text/plain': { schema: z.string() } },
        },
      },
    }),
    async (c) => {
      const jobs = await failedJobs(health);
      if (jobs) metrics.timescaleJobsFailed.set(jobs.length);
      return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
    },
  );
  return r;
}
