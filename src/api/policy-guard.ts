// Who may set a shipment's policy, and the audit of every setting: a logistics request that would weaken a check
// is refused with 403 naming the field (src/checks/tighten.ts decides); compliance and admin may, and every
// registration, citation and policy change is written to the shipment's (and each licence's) audit chain.
import type { Principal } from '../auth.ts';
import { defaultParams } from '../checks/params.ts';
import { type LicenceClaim, type PolicyFields, weakenings } from '../checks/tighten.ts';
import type { CheckParams } from '../checks/types.ts';
import { getLicences } from '../db/licences.ts';
import { appendPolicyAudit, licenceSubject, shipmentSubject } from '../db/policy-audit.ts';
import type { Pool, PoolClient } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import type { LicenceRecord } from '../domain/licences.ts';
import { policyVersion } from '../evidence/policy-audit.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import type { LatLon } from '../geo/types.ts';

/** What the policy rules need besides the database: the geography (policy, countries) and CHECK_PARAMS. */
export interface PolicyDeps {
  geo: GeoRuntime;
  checkParams: Partial<CheckParams>;
}

export interface PolicyRequest {
  mode: 'sea' | 'air' | 'road';
  next: PolicyFields;
  current?: PolicyFields;
  /** Licence ids the request cites that the shipment did not cite before. */
  addedLicenceIds: string[];
  destination: LatLon;
  places?: { field: string; radiusKm: number }[];
  reportIntervalS?: number;
}

/**
 * Applies the rules for the caller's role: logistics only tightens (403 FORBIDDEN naming the first weakening
 * field); compliance and admin may weaken, but cite only licences that exist (422). Returns what the request
 * weakens against the global policy, for the audit.
 */
export async function guardPolicy(
  db: Pool,
  deps: PolicyDeps,
  who: Principal,
  r: PolicyRequest,
): Promise<{ weakens: string[]; licences: Map<string, LicenceRecord> }> {
  const licences = await getLicences(db, r.addedLicenceIds);
  const claims: LicenceClaim[] = r.addedLicenceIds.map((id) => {
    const l = licences.get(id);
    return l ? { id, licence: { status: l.status, countries: l.countries, validTo: l.validTo } } : { id };
  });
  const input = {
    mode: r.mode,
    policyRestricted: deps.geo.policy.restricted,
    globalParams: deps.checkParams,
    next: r.next,
    addedLicences: claims,
    destinationCountry: deps.geo.zones().countryAt(r.destination),
    places: r.places ?? [],
    ...(r.reportIntervalS === undefined ? {} : { reportIntervalS: r.reportIntervalS }),
  };
  if (who.role === 'logistics') {
    const first = weakenings({ ...input, ...(r.current ? { current: r.current } : {}) })[0];
    if (first) throw new AppError('FORBIDDEN', first.message);
  }
  const missing = r.addedLicenceIds.find((id) => !licences.has(id));
  if (missing) throw new AppError('VALIDATION_FAILED', `licenceIds: no licence ${missing}`);
  // Against the global policy alone, what this request weakens: the audit names it.
  return { weakens: weakenings(input).map((w) => w.field), licences };
}

/** The policy fields as the audit records them, with the thresholds they come to. */
function policyDetails(
  deps: PolicyDeps,
  mode: 'sea' | 'air' | 'road',
  p: PolicyFields,
  licenceIds: string[],
) {
  return {
    restrictedCountries: p.restrictedCountries,
    corridorKm: p.corridorKm,
    params: p.params,
    licenses: p.licenses,
    licenceIds,
    effectiveParams: defaultParams(mode, { ...deps.checkParams, ...p.params }),
  };
}

/** Audits a registration and its citations, inside the registering transaction. */
export async function auditRegistration(
  tx: PoolClient,
  deps: PolicyDeps,
  who: Principal,
  shipmentId: string,
  mode: 'sea' | 'air' | 'road',
  p: PolicyFields,
  licenceIds: string[],
  weakens: string[],
): Promise<void> {
  const { restricted: _r, licenseRequired: _l, watch: _w, ...policy } = policyVersion(deps.geo.policy);
  await appendPolicyAudit(tx, {
    subject: shipmentSubject(shipmentId),
    actor: who.sub,
    role: who.role,
    action: 'registered',
    reason: null,
    details: { ...policyDetails(deps, mode, p, licenceIds), weakens, policy },
  });
  await auditCitations(tx, who, shipmentId, licenceIds, 'cited', null);
}

/** Audits citations added or removed, on the shipment's chain and on each licence's. */
export async function auditCitations(
  tx: PoolClient,
  who: Principal,
  shipmentId: string,
  licenceIds: string[],
  action: 'cited' | 'uncited',
  reason: string | null,
): Promise<void> {
  for (const licenceId of licenceIds) {
    const base = { actor: who.sub, role: who.role, action, reason };
    await appendPolicyAudit(tx, { ...base, subject: shipmentSubject(shipmentId), details: { licenceId } });
    await appendPolicyAudit(tx, { ...base, subject: licenceSubject(licenceId), details: { shipmentId } });
  }
}

/** Audits a change of a shipment's policy: before, after, why, and what it weakens. */
export async function auditPolicyChange(
  tx: PoolClient,
  deps: PolicyDeps,
  who: Principal,
  shipmentId: string,
  mode: 'sea' | 'air' | 'road',
  before: { fields: PolicyFields; licenceIds: string[] },
  after: { fields: PolicyFields; licenceIds: string[] },
  reason: string,
  weakens: string[],
): Promise<void> {
  await appendPolicyAudit(tx, {
    subject: shipmentSubject(shipmentId),
    actor: who.sub,
    role: who.role,
    action: 'policy_changed',
    reason,
    details: {
      before: policyDetails(deps, mode, before.fields, before.licenceIds),
      after: policyDetails(deps, mode, after.fields, after.licenceIds),
      weakens,
    },
  });
}
