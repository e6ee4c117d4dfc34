// GET /v1/overview and GET /v1/overview/shipments: the dashboard's fleet at a glance, counted by the database (a
// browser never loads thousands of shipments or alerts to draw it).
import type { Context } from 'hono';
import { SITE_PARAM_DEFAULTS } from '../../checks/site-params.ts';
import {
  latestAlertEvents,
  overviewCounts,
  overviewShipments,
  silentSites,
  silentTrackers,
} from '../../db/overview.ts';
import type { Pool } from '../../db/pool.ts';
import type { AppEnv } from '../auth.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';
import { iso2 } from '../schemas.ts';

/** Missed reports before a tracker counts as silent (the SIGNAL_LOST default). */
const SILENT_INTERVALS = 3;
const LIST = 20;

const overviewSchema = z
  .object({
    generatedAt: z.string(),
    shipments: z.object({
      byStatus: z.record(z.string(), z.number()),
      byRisk: z.array(z.object({ status: z.string(), risk: z.number(), n: z.number() })),
    }),
    openAlerts: z
      .array(z.object({ severity: z.string(), status: z.string(), age: z.string(), n: z.number() }))
      .openapi({
        description: 'alerts not resolved, by severity, status and age of opening: 1h, 24h, 7d, older',
      }),
    silentTrackers: z.object({ total: z.number(), items: z.array(z.record(z.string(), z.unknown())) }),
    silentSites: z.object({ total: z.number(), items: z.array(z.record(z.string(), z.unknown())) }),
    latestEvents: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'the newest alert lifecycle events with who and the note (compliance, admin only)',
    }),
  })
  .openapi('Overview');

const shipmentsQuery = z.object({
  q: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'text in the id, reference, tracker id or customer' }),
  status: z.enum(['planned', 'in_transit', 'arrived', 'installed', 'cancelled']).optional(),
  risk: z
    .enum(['none', 'info', 'warning', 'critical'])
    .optional()
    .openapi({ description: 'worst alert not resolved' }),
  country: iso2.optional().openapi({ description: 'a country one of its alerts names' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const isStaff = (c: Context<AppEnv>) => ['admin', 'compliance'].includes(c.get('principal').role);

export function overviewRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'The fleet at a glance: shipments by status and risk, open alerts, silent trackers and sites',
      responses: { 200: json(overviewSchema, 'the overview') },
    }),
    async (c) => {
      const now = new Date();
      const [counts, trackers, sites, events] = await Promise.all([
        overviewCounts(db, now),
        silentTrackers(db, now, SILENT_INTERVALS, LIST),
        silentSites(db, now, SITE_PARAM_DEFAULTS.siteSilentAfterS, LIST),
        isStaff(c) ? latestAlertEvents(db, LIST) : Promise.resolve([]),
      ]);
      return c.json(
        {
          generatedAt: now.toISOString(),
          shipments: { byStatus: counts.byStatus, byRisk: counts.byRisk },
          openAlerts: counts.openAlerts,
          silentTrackers: trackers,
          silentSites: sites,
          latestEvents: events,
        },
        200,
      );
    },
  );
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/shipments',
      roles: ['logistics', 'compliance'],
      summary: 'One page of shipments, most at risk first, searched and filtered',
      request: { query: shipmentsQuery },
      responses: {
        200: json(
          z.object({
            total: z.number(),
            offset: z.number(),
            items: z.array(z.record(z.string(), z.unknown())),
          }),
          'the page and how many shipments match',
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const risk = q.risk ? ['none', 'info', 'warning', 'critical'].indexOf(q.risk) : undefined;
      const page = await overviewShipments(db, { ...q, q: q.q?.trim() || undefined, risk });
      return c.json({ total: page.total, offset: q.offset, items: page.items }, 200);
    },
  );
  return r;
}
