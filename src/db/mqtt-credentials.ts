// MQTT credentials of trackers and sites: the stored hash of each one's password, what a broker asks at connect, and
// what changed (rotations, revocations) since a broker last looked. The owner's revocation ends its credential.
import type { SenderKind } from '../domain/messages.ts';
import type { Pool, PoolClient } from './pool.ts';

type Queryable = Pool | PoolClient;

export interface MqttCredentialRow {
  kind: SenderKind;
  id: string;
  passwordHash: string;
  generation: number;
  /** The owner (device or site) was revoked: the credential no longer admits anyone. */
  revoked: boolean;
}

/**
 * Stores a new password hash for the sender, replacing any earlier one (generation + 1). Returns the new generation,
 * or undefined when no such device or site exists (or it is revoked: a revoked sender gets no new credential).
 */
export async function setMqttCredential(
  db: Queryable,
  kind: SenderKind,
  id: string,
  passwordHash: string,
  by: string,
): Promise<number | undefined> {
  const owners = kind === 'device' ? 'devices' : 'sites';
  const res = await db.query(
    `INSERT INTO mqtt_credentials (kind, id, password_hash, created_by)
     SELECT $1, o.id, $3, $4 FROM ${owners} o WHERE o.id = $2 AND o.revoked_at IS NULL
     ON CONFLICT (kind, id) DO UPDATE SET password_hash = EXCLUDED.password_hash,
       generation = mqtt_credentials.generation + 1, created_by = EXCLUDED.created_by,
       created_at = now(), updated_at = now()
     RETURNING generation`,
    [kind, id, passwordHash, by],
  );
  return res.rows[0]?.generation as number | undefined;
}

/** Stores the first password hash of many senders at once (batch registration, same transaction). */
export async function insertMqttCredentials(
  c: PoolClient,
  kind: SenderKind,
  rows: { id: string; passwordHash: string }[],
  by: string,
): Promise<void> {
  await c.query(
    `INSERT INTO mqtt_credentials (kind, id, password_hash, created_by)
     SELECT $1, u.id, u.h, $4 FROM unnest($2::text[], $3::text[]) AS u(id, h)`,
    [kind, rows.map((r) => r.id), rows.map((r) => r.passwordHash), by],
  );
}

const ROW_SQL = `SELECT c.kind, c.id, c.password_hash, c.generation,
       coalesce(d.revoked_at, s.revoked_at) IS NOT NULL AS revoked
  FROM mqtt_credentials c
  LEFT JOIN devices d ON c.kind = 'device' AND d.id = c.id
  LEFT JOIN sites s ON c.kind = 'site' AND s.id = c.id`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
const toRow = (r: any): MqttCredentialRow => ({
  kind: r.kind,
  id: r.id,
  passwordHash: r.password_hash,
  generation: r.generation,
  revoked: r.revoked,
});

/** The credentials a connecting username may match: a tracker's and a site's may share an id. */
export async function mqttCredentialsFor(db: Queryable, username: string): Promise<MqttCredentialRow[]> {
  const res = await db.query(`${ROW_SQL} WHERE c.id = $1`, [username]);
  return res.rows.map(toRow);
}

/**
 * Credentials rotated, and owners revoked, after `since` (the database's clock, as returned by the previous call;
 * undefined: nothing yet, only the clock). Callers pass an overlap so a transaction committing late is not missed.
 */
export async function mqttCredentialChanges(
  db: Queryable,
  since: Date | undefined,
): Promise<{ now: Date; rows: MqttCredentialRow[] }> {
  if (!since) {
    const res = await db.query('SELECT now() AS now');
    return { now: res.rows[0].now as Date, rows: [] };
  }
  const res = await db.query(
    `SELECT now() AS now, x.* FROM (${ROW_SQL}
      WHERE c.updated_at > $1 OR d.revoked_at > $1 OR s.revoked_at > $1) x
     RIGHT JOIN (SELECT 1) one ON true`,
    [since],
  );
  return {
    now: res.rows[0].now as Date,
    rows: res.rows.filter((r) => r.kind !== null).map(toRow),
  };
}
