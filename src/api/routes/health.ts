// /healthz, /readyz, /metrics: liveness, readiness and Prometheus metrics, public.
import type { Metrics } from '../../metrics.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';

export interface Health {
  /** Database answers a query now. */
  database(): Promise<boolean>;
  /** Broker connection of ingest is up (true when this process runs no ingest). */
  broker(): boolean;
}

/** Liveness, readiness and metrics: public, documented like every other route. */
export function healthRouter(health: Health, metrics: Metrics) {
  const r = createRouter();
  const readiness = z.object({
    status: z.enum(['ready', 'not ready']),
    database: z.boolean(),
    broker: z.boolean(),
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
      const body = { database, broker };
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
    async (c) =>
      c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );
  return r;
}
