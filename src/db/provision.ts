// Provisions the embedded cluster as its superuser, at every start and idempotently: the superuser's password is the
// random one from its file (a cluster still on the old fixed password gets it once), chipwatch's own login role
// exists with no rights beyond owning chipwatch's database, and what an older chipwatch created as the superuser is
// handed over to that role. Nothing else ever logs in as the superuser.
import pg from 'pg';
import type { Logger } from '../log.ts';
import { ensureTimescale } from './migrate.ts';

export interface ProvisionOptions {
  host: string;
  port: number;
  superuser: string;
  superPassword: string;
  /** The fixed password clusters were initialised with before passwords were random. */
  legacyPassword: string;
  role: string;
  rolePassword: string;
  database: string;
  log: Logger;
}

export interface Provisioned {
  /** The superuser still had the legacy password and now has the one from its file. */
  rotatedSuperuser: boolean;
  /** An older chipwatch's data (in the `postgres` database) became chipwatch's database. */
  adoptedLegacyDatabase: boolean;
  /** Objects handed from the superuser to chipwatch's role. */
  reassigned: string[];
}

const INVALID_PASSWORD = '28P01';

async function connect(o: ProvisionOptions, password: string, database: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: o.host,
    port: o.port,
    user: o.superuser,
    password,
    database,
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

export async function provisionEmbedded(o: ProvisionOptions): Promise<Provisioned> {
  const done: Provisioned = { rotatedSuperuser: false, adoptedLegacyDatabase: false, reassigned: [] };
  // template1 always exists, and the `postgres` database may be renamed below.
  let admin: pg.Client;
  try {
    admin = await connect(o, o.superPassword, 'template1');
  } catch (e) {
    if ((e as { code?: string }).code !== INVALID_PASSWORD) throw e;
    admin = await connect(o, o.legacyPassword, 'template1').catch((e2) => {
      throw (e2 as { code?: string }).code === INVALID_PASSWORD
        ? new Error(
            `the embedded PostgreSQL refuses the superuser password in its file (and the old fixed one): ${(e as Error).message}`,
          )
        : e2;
    });
    await admin.query(
      `ALTER ROLE ${admin.escapeIdentifier(o.superuser)} PASSWORD ${admin.escapeLiteral(o.superPassword)}`,
    );
    done.rotatedSuperuser = true;
  }
  try {
    await ensureRole(admin, o);
    done.adoptedLegacyDatabase = await ensureDatabase(admin, o);
  } finally {
    await admin.end().catch(() => {});
  }
  const db = await connect(o, o.superPassword, o.database);
  try {
    done.reassigned = await handOver(db, o);
  } finally {
    await db.end().catch(() => {});
  }
  // Extensions that need a superuser are created here, before chipwatch's role migrates.
  const url = new URL(`postgres://127.0.0.1/${encodeURIComponent(o.database)}`);
  url.hostname = o.host;
  url.port = String(o.port);
  url.username = encodeURIComponent(o.superuser);
  url.password = encodeURIComponent(o.superPassword);
  await ensureTimescale(url.toString(), o.log);
  return done;
}

/** Login, a password, and nothing else: no superuser, no CREATEDB/CREATEROLE, no membership in any role. */
async function ensureRole(admin: pg.Client, o: ProvisionOptions): Promise<void> {
  const role = admin.escapeIdentifier(o.role);
  const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(o.rolePassword)}`;
  const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [o.role]);
  await admin.query(
    exists.rowCount ? `ALTER ROLE ${role} WITH ${attrs}` : `CREATE ROLE ${role} WITH ${attrs}`,
  );
  const memberOf = await admin.query<{ rolname: string }>(
    `SELECT g.rolname FROM pg_auth_members m
       JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
      WHERE r.rolname = $1`,
    [o.role],
  );
  for (const { rolname } of memberOf.rows)
    await admin.query(`REVOKE ${admin.escapeIdentifier(rolname)} FROM ${role}`);
}

/**
 * chipwatch's database, owned by its role. An older chipwatch kept its tables in the `postgres` database: that
 * database is renamed to chipwatch's (once; a fresh `postgres` takes its place for operators' tools).
 */
async function ensureDatabase(admin: pg.Client, o: ProvisionOptions): Promise<boolean> {
  const names = async () =>
    new Set(
      (await admin.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map((r) => r.datname),
    );
  let adopted = false;
  let have = await names();
  if (!have.has(o.database)) {
    if (have.has('postgres') && (await holdsChipwatchTables(o))) {
      await admin.query(`ALTER DATABASE postgres RENAME TO ${admin.escapeIdentifier(o.database)}`);
      adopted = true;
    } else {
      await admin.query(
        `CREATE DATABASE ${admin.escapeIdentifier(o.database)} OWNER ${admin.escapeIdentifier(o.role)}`,
      );
    }
    have = await names();
  }
  if (!have.has('postgres')) await admin.query('CREATE DATABASE postgres');
  const db = admin.escapeIdentifier(o.database);
  await admin.query(`ALTER DATABASE ${db} OWNER TO ${admin.escapeIdentifier(o.role)}`);
  await admin.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
  return adopted;
}

async function holdsChipwatchTables(o: ProvisionOptions): Promise<boolean> {
  const client = await connect(o, o.superPassword, 'postgres');
  try {
    const r = await client.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS found");
    return r.rows[0]?.found === true;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Gives chipwatch's role the schema objects the superuser owns in its database (an older chipwatch migrated as the
 * superuser). Extension members stay with the extension; sequences of a column follow their table.
 */
async function handOver(db: pg.Client, o: ProvisionOptions): Promise<string[]> {
  const found = await db.query<{ statement: string }>(
    `WITH owner AS (SELECT oid FROM pg_roles WHERE rolname = $1),
          super AS (SELECT oid FROM pg_roles WHERE rolname = $2),
          ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
     SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, $1) AS statement
       FROM pg_namespace n WHERE n.nspname = 'public' AND n.nspowner = (SELECT oid FROM super)
     UNION ALL
     SELECT format('ALTER %s %s OWNER TO %I',
                   CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                   c.oid::regclass, $1)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND c.relowner = (SELECT oid FROM super)
        AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                               AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1)
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.proowner = (SELECT oid FROM super)
        AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)`,
    [o.role, o.superuser],
  );
  for (const { statement } of found.rows) await db.query(statement);
  return found.rows.map((r) => r.statement);
}
