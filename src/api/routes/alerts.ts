// /v1/alerts: the alert list, one alert with its audit trail, and the lifecycle (acknowledge, resolve with a note).
import { transitionAlert } from '../../alerts/apply.ts';
import { getAlert, listAlerts } from '../../db/alerts.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page } from '../pagination.ts';
import { listOf, severity, time } from '../schemas.ts';

const status = z.enum(['open', 'acknowledged', 'resolved']);

export const alertSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ example: 'ROUTE_DEVIATION' }),
    severity,
    status,
    shipmentId: z.string().nullable(),
    deviceId: z.string().nullable(),
    siteId: z.string().nullable(),
    openedAt: time,
    lastSeenAt: time,
    firstEvidenceAt: time.nullable(),
    lastEvidenceAt: time.nullable(),
    count: z.number().openapi({ description: 'pieces of evidence merged into this alert' }),
    details: z.record(z.string(), z.unknown()),
    resolvedAt: time.nullable(),
    resolvedBy: z.string().nullable(),
    resolution: z.string().nullable(),
  })
  .openapi('Alert');

const auditSchema = z.object({
  alertId: z.string(),
  at: time,
  actor: z.string(),
  action: z.string(),
  note: z.string().nullable(),
  details: z.unknown(),
  prevHash: z.string(),
  hash: z.string().openapi({ description: 'hash chain over the trail: verify-evidence re-checks it' }),
});
const alertWithAudit = alertSchema.extend({ audit: z.array(auditSchema) }).openapi('AlertWithAudit');

const alertsQuery = z.object({
  status: status.optional(),
  type: z
    .string()
    .regex(/^[A-Z_]{3,64}$/, 'an alert type, e.g. ROUTE_DEVIATION')
    .optional(),
  severity: severity.optional(),
  shipmentId: z.string().max(128).optional(),
  deviceId: z.string().max(128).optional(),
  siteId: z.string().max(128).optional(),
  limit: limitParam(MAX_PAGE, 100),
  cursor: cursorParam,
});

const idParams = z.object({
  id: z
    .string()
    .regex(/^\d{1,18}$/, 'alert ids are numbers')
    .openapi({ example: '42' }),
});
const lifecycleConflict = errorResponse('CONFLICT: the alert is in a status that does not allow this');

export function alertsRouter(db: Pool) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['compliance'],
      summary: 'Alerts, newest first',
      request: { query: alertsQuery },
      responses: { 200: json(listOf(alertSchema, 'AlertList'), 'a page of alerts') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const before = decodeCursor(q.cursor, ['number'])?.[0] as number | undefined;
      const items = await listAlerts(db, { ...q, beforeId: before });
      return c.json(
        page(
          items,
          q.limit,
          (a) => a,
          (a) => [Number(a.id)],
        ),
        200,
      );
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: ['compliance'],
      summary: 'One alert with its audit trail',
      request: { params: idParams },
      responses: { 200: json(alertWithAudit, 'the alert') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const alert = await getAlert(db, Number(id));
      if (!alert) throw new AppError('NOT_FOUND', `no alert ${id}`);
      return c.json(alert, 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/ack',
      roles: ['compliance'],
      summary: 'Acknowledge an open alert',
      description: 'Audited with who, when and the note. The body may be empty.',
      request: {
        params: idParams,
        body: {
          content: { 'application/json': { schema: z.object({ note: z.string().max(2000).optional() }) } },
        },
      },
      responses: { 200: json(alertWithAudit, 'acknowledged'), 409: lifecycleConflict },
    }),
    async (c) => {
      const alert = await finish(
        c.get('principal').sub,
        Number(c.req.valid('param').id),
        'acknowledged',
        c.req.valid('json').note ?? null,
      );
      return c.json(alert, 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/resolve',
      roles: ['compliance'],
      summary: 'Resolve an open or acknowledged alert, saying why',
      request: {
        params: idParams,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                // Not blank: the pattern says so in the API document, as the trimmed check does.
                note: z
                  .string()
                  .trim()
                  .regex(/\S/, 'a note saying why is required')
                  .max(2000)
                  .openapi({ example: 'carrier confirmed the reroute around the closed port' }),
              }),
            },
          },
          required: true,
        },
      },
      responses: { 200: json(alertWithAudit, 'resolved'), 409: lifecycleConflict },
    }),
    async (c) => {
      const alert = await finish(
        c.get('principal').sub,
        Number(c.req.valid('param').id),
        'resolved',
        c.req.valid('json').note,
      );
      return c.json(alert, 200);
    },
  );

  async function finish(actor: string, id: number, to: 'acknowledged' | 'resolved', note: string | null) {
    const outcome = await withTransaction(db, (tx) => transitionAlert(tx, id, to, actor, note));
    if (outcome === 'not_found') throw new AppError('NOT_FOUND', `no alert ${id}`);
    if (outcome === 'conflict')
      throw new AppError('CONFLICT', `alert ${id} cannot become ${to} from its current status`);
    return (await getAlert(db, id))!;
  }

  return r;
}
