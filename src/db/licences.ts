// Licences compliance grants and the shipments citing them: plain SQL, one operation per function. Who may do what
// is the API's business (routes/licences.ts, routes/shipment-policy.ts); the audit rows are db/policy-audit.ts.
import type { LicenceFields, LicenceRecord } from '../domain/licences.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

const STATUS = `CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN now() < valid_from THEN 'pending'
                     WHEN now() >= valid_to THEN 'expired' ELSE 'active' END AS status`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function licence(r: any): LicenceRecord {
  return {
    id: r.id,
    number: r.number,
    countries: r.countries,
    items: r.items,
    endUser: r.end_user,
    validFrom: r.valid_from.toISOString(),
    validTo: r.valid_to.toISOString(),
    notes: r.notes,
    grantedBy: r.granted_by,
    grantedAt: r.granted_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
    revokedBy: r.revoked_by,
    revokeReason: r.revoke_reason,
    status: r.status,
  };
}

/** false when the id is taken. */
export async function insertLicence(
  c: Queryable,
  id: string,
  f: LicenceFields,
  by: string,
): Promise<boolean> {
  const res = await c.query(
    `INSERT INTO licences (id, number, countries, items, end_user, valid_from, valid_to, notes, granted_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [id, f.number, f.countries, f.items, f.endUser, f.validFrom, f.validTo, f.notes, by],
  );
  return res.rowCount === 1;
}

export async function getLicence(db: Queryable, id: string): Promise<LicenceRecord | undefined> {
  const res = await db.query(`SELECT *, ${STATUS} FROM licences WHERE id = $1`, [id]);
  return res.rows[0] ? licence(res.rows[0]) : undefined;
}

/** The licence, its row locked for this transaction (a change or revocation). */
export async function lockLicence(c: PoolClient, id: string): Promise<LicenceRecord | undefined> {
  const res = await c.query(`SELECT *, ${STATUS} FROM licences WHERE id = $1 FOR UPDATE`, [id]);
  return res.rows[0] ? licence(res.rows[0]) : undefined;
}

/** The licences of these ids that exist, by id. */
export async function getLicences(db: Queryable, ids: string[]): Promise<Map<string, LicenceRecord>> {
  if (ids.length === 0) return new Map();
  const res = await db.query(`SELECT *, ${STATUS} FROM licences WHERE id = ANY($1::text[])`, [ids]);
  return new Map(res.rows.map((r) => [r.id as string, licence(r)]));
}

export async function listLicences(
  db: Queryable,
  q: { status?: string | undefined; country?: string | undefined; limit: number; after?: string | undefined },
): Promise<LicenceRecord[]> {
  const res = await db.query(
    `SELECT * FROM (SELECT *, ${STATUS} FROM licences) l
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR $2 = ANY(countries))
        AND ($4::text IS NULL OR id > $4)
      ORDER BY id LIMIT $3`,
    [q.status ?? null, q.country ?? null, q.limit, q.after ?? null],
  );
  return res.rows.map(licence);
}

export async function updateLicence(c: PoolClient, id: string, f: LicenceFields): Promise<void> {
  await c.query(
    `UPDATE licences SET number = $2, countries = $3, items = $4, end_user = $5, valid_from = $6, valid_to = $7,
            notes = $8 WHERE id = $1`,
    [id, f.number, f.countries, f.items, f.endUser, f.validFrom, f.validTo, f.notes],
  );
}

export async function revokeLicence(c: PoolClient, id: string, by: string, reason: string): Promise<void> {
  await c.query('UPDATE licences SET revoked_at = now(), revoked_by = $2, revoke_reason = $3 WHERE id = $1', [
    id,
    by,
    reason,
  ]);
}

/** The shipments citing the licence, in id order. */
export async function citingShipments(db: Queryable, licenceId: string): Promise<string[]> {
  const res = await db.query(
    'SELECT shipment_id FROM shipment_licences WHERE licence_id = $1 ORDER BY shipment_id',
    [licenceId],
  );
  return res.rows.map((r) => r.shipment_id as string);
}

export async function citeLicences(
  c: PoolClient,
  shipmentId: string,
  licenceIds: string[],
  by: string,
): Promise<void> {
  if (licenceIds.length === 0) return;
  await c.query(
    `INSERT INTO shipment_licences (shipment_id, licence_id, cited_by)
     SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING`,
    [shipmentId, licenceIds, by],
  );
}

export async function unciteLicences(c: PoolClient, shipmentId: string, licenceIds: string[]): Promise<void> {
  if (licenceIds.length === 0) return;
  await c.query('DELETE FROM shipment_licences WHERE shipment_id = $1 AND licence_id = ANY($2::text[])', [
    shipmentId,
    licenceIds,
  ]);
}

/** A shipment's cited licences with who cited them when, in id order. */
export async function citedLicences(
  db: Queryable,
  shipmentId: string,
): Promise<(LicenceRecord & { citedBy: string; citedAt: string })[]> {
  const res = await db.query(
    `SELECT l.*, ${STATUS}, sl.cited_by, sl.cited_at
       FROM shipment_licences sl JOIN licences l ON l.id = sl.licence_id
      WHERE sl.shipment_id = $1 ORDER BY l.id`,
    [shipmentId],
  );
  return res.rows.map((r) => ({ ...licence(r), citedBy: r.cited_by, citedAt: r.cited_at.toISOString() }));
}
