// GET /v1/shipments/{id}/evidence: the shipment's evidence bundle, verifiable offline with `chipwatch verify-evidence`.
import { Hono } from 'hono';
import { gatherEvidence } from '../../db/evidence.ts';
import type { Pool } from '../../db/pool.ts';
import { getShipment } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import { sealBundle } from '../../evidence/bundle.ts';
import { type AppEnv, requireRole } from '../auth.ts';

export function evidenceRouter(db: Pool) {
  const r = new Hono<AppEnv>();
  r.get('/:id/evidence', requireRole('compliance'), async (c) => {
    const id = c.req.param('id');
    const shipment = await getShipment(db, id);
    if (!shipment) throw new AppError('NOT_FOUND', `no shipment ${id}`);
    const bundle = sealBundle(await gatherEvidence(db, shipment, c.get('principal').sub));
    return c.json(bundle, 200, {
      'Content-Disposition': `attachment; filename="evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`,
    });
  });
  return r;
}
