// Reads the `policy` section of a shipment's evidence bundle: its overrides, its cited licences each with its audit
// chain, and the shipment's own policy audit chain; the policy file's version comes from the caller's Policy.
import type { ShipmentRecord } from '../checks/shipment.ts';
import { type BundlePolicy, policyVersion } from '../evidence/policy-audit.ts';
import type { Policy } from '../geo/policy.ts';
import { citedLicences } from './licences.ts';
import { licenceSubject, policyAuditTrails, shipmentSubject } from './policy-audit.ts';
import type { Pool, PoolClient } from './pool.ts';

export async function gatherPolicy(
  db: Pool | PoolClient,
  s: ShipmentRecord,
  policy?: Policy,
): Promise<BundlePolicy> {
  const cited = await citedLicences(db, s.id);
  const trails = await policyAuditTrails(db, [
    shipmentSubject(s.id),
    ...cited.map((l) => licenceSubject(l.id)),
  ]);
  return {
    ...(policy ? { file: policyVersion(policy) } : {}),
    overrides: {
      restrictedCountries: s.restrictedCountries,
      corridorKm: s.corridorKm,
      params: s.params,
      licenses: s.licenses,
    },
    licences: cited.map(({ status: _status, ...l }) => ({
      ...l,
      audit: trails.get(licenceSubject(l.id)) ?? [],
    })),
    audit: trails.get(shipmentSubject(s.id)) ?? [],
  };
}
