// /v1/chips: a chip's custody chain, from the shipments that carried it to the sites where it runs.
import { attestationsNaming, chipAlerts, shipmentsCarrying, sitesOfChip } from '../../db/chips.ts';
import type { Pool } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import { chipCustody, MAX_CUSTODY_ATTESTATIONS } from '../chip-custody.ts';
import { createRouter, defineRoute, json, z } from '../openapi.ts';
import { point, time } from '../schemas.ts';

const custodySchema = z
  .object({
    serial: z.string(),
    shipments: z.array(z.record(z.string(), z.unknown())),
    attestations: z.array(
      z.object({
        siteId: z.string(),
        at: time,
        seq: z.number(),
        location: point,
        flags: z.array(z.string()),
      }),
    ),
    attestationsTruncated: z.boolean(),
    sites: z
      .array(z.object({ siteId: z.string(), firstSeen: time, lastSeen: time }))
      .openapi({ description: 'every site that attested the chip, with the first and last time' }),
    alerts: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('ChipCustody');

export function chipsRouter(db: Pool) {
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{serial}',
      roles: ['compliance'],
      summary: "A chip's custody chain",
      description:
        'Every shipment that carried the serial (status, fixes, arrival, installation), the sites that attested it (first and last time), the newest 1,000 attestations naming it in time order, and its alerts.',
      request: { params: z.object({ serial: z.string().min(1).max(128).openapi({ example: 'GPU-0001' }) }) },
      responses: { 200: json(custodySchema, 'the custody chain') },
    }),
    async (c) => {
      const { serial } = c.req.valid('param');
      const shipments = await shipmentsCarrying(db, serial);
      const custody = chipCustody(serial, {
        shipments,
        newestAttestations: await attestationsNaming(db, serial, MAX_CUSTODY_ATTESTATIONS + 1),
        sites: await sitesOfChip(db, serial),
        alerts: await chipAlerts(
          db,
          serial,
          shipments.map((s) => s.id),
        ),
      });
      if (!custody)
        throw new AppError('NOT_FOUND', `no shipment carried and no site attested chip ${serial}`);
      return c.json(custody, 200);
    },
  );
  return r;
}
