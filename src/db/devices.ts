// Devices and their keys: registration, revocation, and key lookups for the ingest path.
import type { PublicJwk, SigningAlg } from '../verify/keys.ts';
import { type Pool, type PoolClient, withTransaction } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface DeviceRow {
  id: string;
  createdAt: Date;
  revokedAt: Date | null;
  keys: { kid: string; alg: SigningAlg; createdAt: Date; revokedAt: Date | null }[];
}

/**
 * Inserts a device with its first key, both or neither; returns false when the device id or the kid is taken (kids
 * are unique across trackers and sites, so a bundle or a log line naming a kid names one key).
 */
export async function insertDevice(
  db: Pool,
  id: string,
  jwk: PublicJwk,
  createdBy: string,
  /** The first seq the tracker will use (its replay window and ack floor start just below it). */
  firstSeq = 1,
): Promise<boolean> {
  return withTransaction(db, async (c) => {
    if (await kidTaken(c, jwk.kid)) return false;
    const d = await c.query(
      'INSERT INTO devices (id, created_by, first_seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [id, createdBy, firstSeq],
    );
    if (d.rowCount !== 1) return false;
    await c.query('INSERT INTO device_keys (kid, device_id, alg, public_jwk) VALUES ($1, $2, $3, $4)', [
      jwk.kid,
      id,
      jwk.alg,
      JSON.stringify(jwk),
    ]);
    return true;
  }).catch((e) => {
    // The same kid registered concurrently.
    if ((e as { code?: string }).code === '23505') return false;
    throw e;
  });
}

/** A kid registered to any tracker or site. */
export async function kidTaken(db: Queryable, kid: string): Promise<boolean> {
  const res = await db.query(
    'SELECT 1 FROM device_keys WHERE kid = $1 UNION ALL SELECT 1 FROM site_keys WHERE kid = $1 LIMIT 1',
    [kid],
  );
  return res.rowCount === 1;
}

/**
 * Registers many devices with their first key in one transaction: all or none. Returns the device ids and kids that
 * were already taken (nothing is inserted then).
 */
export async function insertDevices(
  c: PoolClient,
  devices: { id: string; jwk: PublicJwk; firstSeq?: number }[],
  createdBy: string,
): Promise<{ takenIds: string[]; takenKids: string[] }> {
  const ids = devices.map((d) => d.id);
  const kids = devices.map((d) => d.jwk.kid);
  const taken = await c.query(
    `SELECT 'id' AS what, id AS value FROM devices WHERE id = ANY($1::text[])
     UNION ALL SELECT 'kid', kid FROM device_keys WHERE kid = ANY($2::text[])
     UNION ALL SELECT 'kid', kid FROM site_keys WHERE kid = ANY($2::text[])`,
    [ids, kids],
  );
  const takenIds = taken.rows.filter((r) => r.what === 'id').map((r) => r.value as string);
  const takenKids = taken.rows.filter((r) => r.what === 'kid').map((r) => r.value as string);
  if (takenIds.length > 0 || takenKids.length > 0) return { takenIds, takenKids };
  await c.query(
    'INSERT INTO devices (id, created_by, first_seq) SELECT i, $2, f FROM unnest($1::text[], $3::bigint[]) AS x(i, f)',
    [ids, createdBy, devices.map((d) => d.firstSeq ?? 1)],
  );
  await c.query(
    `INSERT INTO device_keys (kid, device_id, alg, public_jwk)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
    [kids, ids, devices.map((d) => d.jwk.alg), devices.map((d) => JSON.stringify(d.jwk))],
  );
  return { takenIds: [], takenKids: [] };
}

export async function getDevice(db: Queryable, id: string): Promise<DeviceRow | undefined> {
  const res = await db.query(
    `SELECT d.id, d.created_at, d.revoked_at,
            coalesce(json_agg(json_build_object('kid', k.kid, 'alg', k.alg, 'createdAt', k.created_at,
                     'revokedAt', k.revoked_at) ORDER BY k.created_at) FILTER (WHERE k.kid IS NOT NULL), '[]') AS keys
       FROM devices d LEFT JOIN device_keys k ON k.device_id = d.id
      WHERE d.id = $1 GROUP BY d.id`,
    [id],
  );
  const r = res.rows[0];
  if (!r) return undefined;
  return { id: r.id, createdAt: r.created_at, revokedAt: r.revoked_at, keys: r.keys };
}

/** Which of the ids are registered devices (with their active shipment) and which are registered sites. */
export async function knownSenders(
  c: Queryable,
  deviceIds: string[],
  siteIds: string[],
): Promise<{ devices: Set<string>; sites: Set<string>; shipmentOf: Map<string, string> }> {
  const res = await c.query(
    `SELECT 'device' AS kind, d.id, s.id AS shipment_id FROM devices d
       LEFT JOIN shipments s ON s.device_id = d.id AND s.status IN ('planned', 'in_transit')
      WHERE d.id = ANY($1::text[])
     UNION ALL SELECT 'site', id, NULL FROM sites WHERE id = ANY($2::text[])`,
    [deviceIds, siteIds],
  );
  const rows = res.rows as { kind: string; id: string; shipment_id: string | null }[];
  return {
    devices: new Set(rows.filter((r) => r.kind === 'device').map((r) => r.id)),
    sites: new Set(rows.filter((r) => r.kind === 'site').map((r) => r.id)),
    shipmentOf: new Map(rows.flatMap((r) => (r.shipment_id ? [[r.id, r.shipment_id] as const] : []))),
  };
}
