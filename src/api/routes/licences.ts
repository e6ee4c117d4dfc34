// /v1/licences: licences are records compliance grants (number, countries, ECCN items, end user, validity). Grant,
// change (with a reason) and revoke are compliance's (and admin's), each audited on the licence's hash chain;
// logistics may read them to cite them. A licence covers its countries only while it is not revoked and valid:
// the checks read that at check time, so citing shipments are re-checked from their next fix on.
import {
  citingShipments,
  getLicence,
  insertLicence,
  listLicences,
  lockLicence,
  revokeLicence,
  updateLicence,
} from '../../db/licences.ts';
import { appendPolicyAudit, licenceSubject, policyAuditTrails } from '../../db/policy-audit.ts';
import { type Pool, withTransaction } from '../../db/pool.ts';
import { AppError } from '../../domain/errors.ts';
import type { LicenceFields, LicenceRecord } from '../../domain/licences.ts';
import { createRouter, defineRoute, errorResponse, json, z } from '../openapi.ts';
import { cursorParam, decodeCursor, limitParam, MAX_PAGE, page, parseRfc3339 } from '../pagination.ts';
import { id, iso2, listOf, pathId, policyAuditRow, time } from '../schemas.ts';

const at = z
  .string()
  .max(40)
  .refine((s) => parseRfc3339(s) !== undefined, 'must be an RFC 3339 time, e.g. 2026-11-21T00:00:00Z')
  .openapi({ format: 'date-time', example: '2026-11-21T00:00:00Z' });
/** An ECCN (`3A090`, `4A090.a`, `5A002.a.1`) or EAR99. */
const eccn = z
  .string()
  .regex(/^(?:[0-9][A-E][0-9]{3}(?:\.[a-z0-9]{1,4}){0,4}|EAR99)$/, 'an ECCN, e.g. 3A090 or 4A090.a')
  .openapi({ example: '3A090' });
/** Free text that says something: not blank (a pattern, so the OpenAPI document states it). */
const text = (max: number, example: string) =>
  z.string().min(1).max(max).regex(/\S/, 'must not be blank').openapi({ example });
const status = z.enum(['active', 'pending', 'expired', 'revoked']);

const fields = {
  number: text(200, 'D1234567'),
  countries: z.array(iso2).min(1).max(300),
  items: z.array(eccn).max(100),
  endUser: text(500, 'Example Compute Ltd, Almaty'),
  validFrom: at,
  validTo: at,
  notes: text(4000, 'conditions in the licence file').nullable(),
};

const grantBody = z
  .object({ id, ...fields, items: fields.items.default([]), notes: fields.notes.optional() })
  .strict()
  .openapi('LicenceGrant');
const changeBody = z
  .object({
    ...fields,
    reason: text(2000, 'end user changed its address').openapi({
      description: 'why: kept in the audit trail',
    }),
  })
  .partial()
  .required({ reason: true })
  .strict()
  .openapi('LicenceChange');
const revokeBody = z
  .object({ reason: text(2000, 'licence withdrawn by BIS') })
  .strict()
  .openapi('LicenceRevocation');

const licenceSchema = z
  .object({
    id: z.string(),
    number: z.string(),
    countries: z.array(z.string()),
    items: z.array(z.string()),
    endUser: z.string(),
    validFrom: time,
    validTo: time,
    notes: z.string().nullable(),
    status: status.openapi({ description: 'active: covers its countries now; nothing else covers anything' }),
    grantedBy: z.string(),
    grantedAt: time,
    revokedAt: time.nullable(),
    revokedBy: z.string().nullable(),
    revokeReason: z.string().nullable(),
  })
  .openapi('Licence');
const licenceDetail = licenceSchema
  .extend({ citedBy: z.array(z.string()), audit: z.array(policyAuditRow.omit({ subject: true })) })
  .openapi('LicenceDetail');

/** Normalised fields: countries and items sorted and unique; validity in order. */
function normalise(f: LicenceFields): LicenceFields {
  const from = parseRfc3339(f.validFrom)!;
  const to = parseRfc3339(f.validTo)!;
  if (to <= from) throw new AppError('VALIDATION_FAILED', 'validTo: must be after validFrom');
  return {
    ...f,
    countries: [...new Set(f.countries)].sort(),
    items: [...new Set(f.items)].sort(),
    validFrom: new Date(from).toISOString(),
    validTo: new Date(to).toISOString(),
  };
}

export function licencesRouter(db: Pool) {
  const r = createRouter();
  const detail = async (l: LicenceRecord) => ({
    ...l,
    citedBy: await citingShipments(db, l.id),
    audit: (await policyAuditTrails(db, [licenceSubject(l.id)])).get(licenceSubject(l.id)) ?? [],
  });
  const paramsId = pathId('lic-0001');

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      roles: ['compliance'],
      summary: 'Grant a licence',
      request: { body: { content: { 'application/json': { schema: grantBody } }, required: true } },
      responses: {
        201: json(licenceDetail, 'granted; Location names it'),
        409: errorResponse('CONFLICT: the id exists'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const who = c.get('principal');
      const f = normalise({ ...b, notes: b.notes ?? null });
      await withTransaction(db, async (tx) => {
        if (!(await insertLicence(tx, b.id, f, who.sub)))
          throw new AppError('CONFLICT', `licence ${b.id} exists`);
        await appendPolicyAudit(tx, {
          subject: licenceSubject(b.id),
          actor: who.sub,
          role: who.role,
          action: 'granted',
          reason: f.notes,
          details: f,
        });
      });
      return c.json(await detail((await getLicence(db, b.id))!), 201, { Location: `/v1/licences/${b.id}` });
    },
  );

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'List licences',
      description: 'In id order; `status` and `country` filter.',
      request: {
        query: z.object({
          status: status.optional(),
          country: iso2.optional(),
          limit: limitParam(MAX_PAGE, 100),
          cursor: cursorParam,
        }),
      },
      responses: { 200: json(listOf(licenceSchema, 'LicenceList'), 'a page of licences') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeCursor(q.cursor, ['string'])?.[0] as string | undefined;
      const rows = await listLicences(db, { ...q, after });
      return c.json(
        page(
          rows,
          q.limit,
          (l) => l,
          (l) => [l.id],
        ),
        200,
      );
    },
  );

  const load = async (licenceId: string) => {
    const l = await getLicence(db, licenceId);
    if (!l) throw new AppError('NOT_FOUND', `no licence ${licenceId}`);
    return l;
  };

  r.openapi(
    defineRoute({
      method: 'get',
      path: '/{id}',
      roles: ['logistics', 'compliance'],
      summary: 'One licence, the shipments citing it, and its audit trail',
      request: { params: paramsId },
      responses: { 200: json(licenceDetail, 'the licence') },
    }),
    async (c) => c.json(await detail(await load(c.req.valid('param').id)), 200),
  );

  r.openapi(
    defineRoute({
      method: 'patch',
      path: '/{id}',
      roles: ['compliance'],
      summary: 'Change a licence (audited, with a reason)',
      description:
        'Given fields replace the current ones; a shortened validity or a removed country stops covering at once.',
      request: {
        params: paramsId,
        body: { content: { 'application/json': { schema: changeBody } }, required: true },
      },
      responses: {
        200: json(licenceDetail, 'the licence as changed'),
        409: errorResponse('CONFLICT: the licence is revoked'),
      },
    }),
    async (c) => {
      const licenceId = c.req.valid('param').id;
      const { reason, ...b } = c.req.valid('json');
      const who = c.get('principal');
      await withTransaction(db, async (tx) => {
        const l = await lockLicence(tx, licenceId);
        if (!l) throw new AppError('NOT_FOUND', `no licence ${licenceId}`);
        if (l.status === 'revoked') throw new AppError('CONFLICT', `licence ${licenceId} is revoked`);
        const before: LicenceFields = {
          number: l.number,
          countries: l.countries,
          items: l.items,
          endUser: l.endUser,
          validFrom: l.validFrom,
          validTo: l.validTo,
          notes: l.notes,
        };
        const after = normalise({ ...before, ...b });
        const changed = (Object.keys(after) as (keyof LicenceFields)[]).filter(
          (k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]),
        );
        await updateLicence(tx, licenceId, after);
        await appendPolicyAudit(tx, {
          subject: licenceSubject(licenceId),
          actor: who.sub,
          role: who.role,
          action: 'changed',
          reason,
          details: {
            before: Object.fromEntries(changed.map((k) => [k, before[k]])),
            after: Object.fromEntries(changed.map((k) => [k, after[k]])),
          },
        });
      });
      return c.json(await detail(await load(licenceId)), 200);
    },
  );

  r.openapi(
    defineRoute({
      method: 'post',
      path: '/{id}/revoke',
      roles: ['compliance'],
      summary: 'Revoke a licence: it covers nothing from now on (audited, with a reason)',
      request: {
        params: paramsId,
        body: { content: { 'application/json': { schema: revokeBody } }, required: true },
      },
      responses: {
        200: json(licenceDetail, 'the licence, revoked'),
        409: errorResponse('CONFLICT: already revoked'),
      },
    }),
    async (c) => {
      const licenceId = c.req.valid('param').id;
      const { reason } = c.req.valid('json');
      const who = c.get('principal');
      await withTransaction(db, async (tx) => {
        const l = await lockLicence(tx, licenceId);
        if (!l) throw new AppError('NOT_FOUND', `no licence ${licenceId}`);
        if (l.status === 'revoked') throw new AppError('CONFLICT', `licence ${licenceId} is already revoked`);
        await revokeLicence(tx, licenceId, who.sub, reason);
        await appendPolicyAudit(tx, {
          subject: licenceSubject(licenceId),
          actor: who.sub,
          role: who.role,
          action: 'revoked',
          reason,
          details: { citedBy: await citingShipments(tx, licenceId) },
        });
      });
      return c.json(await detail(await load(licenceId)), 200);
    },
  );

  return r;
}
