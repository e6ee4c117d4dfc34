// POST /v1/{devices|sites}/{id}/replay-window/reset (admin): the sender's next seq becomes `firstSeq`, above every seq
// it ever had stored, after its counter jumped (a SEQ_JUMP the device cannot climb back from) or it was
// re-provisioned. Audited with who and why in the append-only policy audit (`device:<id>`, `site:<id>`).
import { appendPolicyAudit } from '../../db/policy-audit.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { resetReplayWindow } from '../../db/replay-reset.ts';
import { AppError } from '../../domain/errors.ts';
import type { SenderKind } from '../../domain/messages.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { pathId } from '../schemas.ts';

const resetBody = z
  .object({
    firstSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).openapi({
      description: 'the next seq the sender will use: above every seq it ever had stored',
    }),
    reason: z.string().min(1).max(1000).openapi({ description: 'why, for the audit' }),
  })
  .openapi('ReplayWindowReset');

const resetAnswer = z
  .object({
    id: z.string(),
    firstSeq: z.number(),
    previousHighestSeq: z.number(),
    previousAckFloor: z.number().nullable(),
  })
  .openapi('ReplayWindowResetDone');

export function replayWindowRouter(db: Pool, sender: SenderKind) {
  const r = createRouter();
  const what = sender === 'device' ? 'tracker' : 'site';
  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/replay-window/reset',
      roles: ['admin'],
      summary: `Reset a ${what}'s replay window: its next seq is firstSeq`,
      description:
        'Audited (who, when, why). Messages with a seq below firstSeq are refused STALE_SEQ afterwards unless they repeat a stored one exactly; firstSeq must lie above every seq already stored, so no seq is ever accepted twice.',
      request: {
        params: pathId(sender === 'device' ? 'trk-000042' : 'dc-ams-01'),
        body: { content: { 'application/json': { schema: resetBody } }, required: true },
      },
      responses: {
        200: json(resetAnswer, 'reset'),
        404: errorResponse(`NOT_FOUND: no such ${what}`),
        409: errorResponse('CONFLICT: firstSeq is not above every stored seq'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { firstSeq, reason } = c.req.valid('json');
      const principal = c.get('principal');
      const outcome = await withTransaction(db, async (tx) => {
        const o = await resetReplayWindow(tx, sender, id, firstSeq);
        if (o.kind === 'reset') {
          await appendPolicyAudit(tx, {
            subject: `${sender}:${id}`,
            actor: principal.sub,
            role: principal.role,
            action: 'window_reset',
            reason,
            details: { firstSeq, previousHighestSeq: o.previousHighest, previousAckFloor: o.previousFloor },
          });
        }
        return o;
      });
      if (outcome.kind === 'not_found') throw new AppError('NOT_FOUND', `no ${what} ${id}`);
      if (outcome.kind === 'too_low') {
        throw new AppError(
          'CONFLICT',
          `firstSeq ${firstSeq} is not above seq ${outcome.highestStored}, already stored for ${id}: choose a higher one`,
        );
      }
      return c.json(
        {
          id,
          firstSeq,
          previousHighestSeq: outcome.previousHighest,
          previousAckFloor: outcome.previousFloor,
        },
        200,
      );
    },
  );
  return r;
}
