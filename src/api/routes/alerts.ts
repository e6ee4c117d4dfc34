// /v1/alerts: the alert list, one alert with its audit trail, and the lifecycle (acknowledge, resolve with a note).
import { Hono } from 'hono';
import { z } from 'zod';
import { getAlert, listAlerts, transitionAlert } from '../../db/alerts.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { type AppEnv, requireRole } from '../auth.ts';
import { decodeCursor, page } from '../pagination.ts';
import { jsonBody, query } from '../validate.ts';

const alertsQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'resolved']).optional(),
  type: z
    .string()
    .regex(/^[A-Z_]{3,64}$/)
    .optional(),
  severity: z.enum(['info', 'warning', 'critical']).optional(),
  shipmentId: z.string().max(128).optional(),
  deviceId: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().optional(),
});

const alertId = (raw: string) => {
  if (!/^\d{1,18}$/.test(raw)) throw new AppError('NOT_FOUND', `no alert ${raw}`);
  return Number(raw);
};

export function alertsRouter(db: Pool) {
  const r = new Hono<AppEnv>();

  r.get('/', requireRole('compliance'), async (c) => {
    const q = query(c, alertsQuery);
    const before = decodeCursor(q.cursor, 1)?.[0] as number | undefined;
    const items = await listAlerts(db, { ...q, beforeId: before });
    return c.json(
      page(
        items,
        q.limit,
        (a) => a,
        (a) => [Number(a.id)],
      ),
    );
  });

  r.get('/:id', requireRole('compliance'), async (c) => {
    const alert = await getAlert(db, alertId(c.req.param('id')));
    if (!alert) throw new AppError('NOT_FOUND', `no alert ${c.req.param('id')}`);
    return c.json(alert);
  });

  r.post('/:id/ack', requireRole('compliance'), async (c) => {
    const id = alertId(c.req.param('id'));
    const text = await c.req.text();
    let note: string | null = null;
    if (text.trim()) {
      try {
        const parsed = z.object({ note: z.string().max(2000).optional() }).parse(JSON.parse(text));
        note = parsed.note ?? null;
      } catch {
        throw new AppError('VALIDATION_FAILED', 'body: {"note"?: string} or empty');
      }
    }
    return finish(c.get('principal').sub, id, 'acknowledged', note);
  });

  r.post('/:id/resolve', requireRole('compliance'), async (c) => {
    const id = alertId(c.req.param('id'));
    const { note } = await jsonBody(
      c,
      z.object({ note: z.string().trim().min(1, 'a note saying why is required').max(2000) }),
    );
    return finish(c.get('principal').sub, id, 'resolved', note);
  });

  async function finish(actor: string, id: number, to: 'acknowledged' | 'resolved', note: string | null) {
    const outcome = await withTransaction(db, (tx) => transitionAlert(tx, id, to, actor, note));
    if (outcome === 'not_found') throw new AppError('NOT_FOUND', `no alert ${id}`);
    if (outcome === 'conflict')
      throw new AppError('CONFLICT', `alert ${id} cannot become ${to} from its current status`);
    return Response.json(await getAlert(db, id));
  }

  return r;
}
