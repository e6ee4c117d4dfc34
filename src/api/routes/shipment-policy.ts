// A shipment's policy after registration: PATCH /v1/shipments/{id} changes its restricted countries, corridor,
// thresholds and cited licences (compliance and admin freely, logistics only tightening), audited with a reason and
// in effect from the next fix on; GET /v1/shipments/{id}/policy shows the policy section its evidence bundle carries.
import type { ShipmentRecord } from '../../checks/shipment.ts';
import type { PolicyFields } from '../../checks/tighten.ts';
import { gatherPolicy } from '../../db/evidence-policy.ts';
import { citeLicences, unciteLicences } from '../../db/licences.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { lockShipment, updateShipmentPolicy } from '../../db/shipments.ts';
import { AppError } from '../../domain/errors.ts';
import type { CorridorCache } from '../corridor-cache.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { auditCitations, auditPolicyChange, guardPolicy, type PolicyDeps } from '../policy-guard.ts';
import { pathId, policyAuditRow } from '../schemas.ts';
import { policyChangeBody, shipmentSchema, shipmentView } from '../shipment-view.ts';

const fieldsOf = (s: ShipmentRecord): PolicyFields => ({
  restrictedCountries: s.restrictedCountries,
  corridorKm: s.corridorKm,
  params: s.params,
  licenses: s.licenses,
});

const policySchema = z
  .object({
    file: z.record(z.string(), z.unknown()).optional(),
    overrides: z.record(z.string(), z.unknown()),
    licences: z.array(z.record(z.string(), z.unknown())),
    audit: z.array(policyAuditRow),
  })
  .openapi('ShipmentPolicy');

export { policySchema };

export function shipmentPolicyRouter(
  db: Pool,
  deps: PolicyDeps,
  load: (id: string) => Promise<ShipmentRecord>,
  corridors: CorridorCache,
) {
  const r = createRouter();

  r.openapi(
    defineRoute({
      method: 'patch',
      path: '/{id}',
      roles: ['logistics', 'compliance'],
      summary: "Change a shipment's policy (audited)",
      description:
        'Given fields replace the current ones; `reason` is required and kept in the audit trail. Compliance and admin may weaken a check; from logistics a change must tighten (403 FORBIDDEN naming the field otherwise). The checks use the new policy from the next fix on.',
      request: {
        params: pathId('shp-001'),
        body: { content: { 'application/json': { schema: policyChangeBody } }, required: true },
      },
      responses: {
        200: json(shipmentSchema, 'the shipment as changed'),
        403: errorResponse('FORBIDDEN: the role may not, or (logistics) a field would weaken a check'),
        409: errorResponse('CONFLICT: the shipment has arrived, been installed or cancelled'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      const who = c.get('principal');
      const widthChanged = await withTransaction(db, async (tx) => {
        const s = await lockShipment(tx, id);
        if (!s) throw new AppError('NOT_FOUND', `no shipment ${id}`);
        if (s.status !== 'planned' && s.status !== 'in_transit')
          throw new AppError('CONFLICT', `shipment ${id} is ${s.status}: its policy no longer changes`);
        const before = fieldsOf(s);
        const after: PolicyFields = {
          restrictedCountries:
            b.restrictedCountries === undefined ? before.restrictedCountries : b.restrictedCountries,
          corridorKm: b.corridorKm ?? before.corridorKm,
          params: b.params ?? before.params,
          licenses: b.licenses ?? before.licenses,
        };
        const had = s.licenceIds ?? [];
        const now = b.licenceIds ? [...new Set(b.licenceIds)].sort() : had;
        const added = now.filter((l) => !had.includes(l));
        const removed = had.filter((l) => !now.includes(l));
        const { weakens } = await guardPolicy(db, deps, who, {
          mode: s.mode,
          next: after,
          current: before,
          addedLicenceIds: added,
          destination: s.destination,
        });
        await updateShipmentPolicy(tx, id, after);
        await citeLicences(tx, id, added, who.sub);
        await unciteLicences(tx, id, removed);
        await auditPolicyChange(
          tx,
          deps,
          who,
          id,
          s.mode,
          { fields: before, licenceIds: had },
          { fields: after, licenceIds: now },
          b.reason,
          weakens,
        );
        await auditCitations(tx, who, id, added, 'cited', b.reason);
        await auditCitations(tx, who, id, removed, 'uncited', b.reason);
        return after.corridorKm !== before.corridorKm;
      });
      const changed = await load(id);
      // A new width: its corridor is built (off the event loop) and stored now, not by the next track.
      if (widthChanged) await corridors.prepare(changed);
      return c.json(shipmentView(changed), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}/policy',
      roles: ['logistics', 'compliance'],
      summary: 'The policy a shipment is checked against, with its cited licences and audit trail',
      description:
        "The policy file's version, the shipment's overrides, its cited licences each with its audit chain, and the shipment's own chain: the `policy` section of its evidence bundle.",
      request: { params: pathId('shp-001') },
      responses: { 200: json(policySchema, 'the policy') },
    }),
    async (c) => {
      const s = await load(c.req.valid('param').id);
      return c.json(await gatherPolicy(db, s, deps.geo.policy), 200);
    },
  );

  return r;
}
