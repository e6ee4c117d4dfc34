// The embedded PostgreSQL is not a door: a random superuser password per data folder (file mode 0600), loopback
// only, and chipwatch connects as a role that owns its tables and nothing more. Started the way src/server.ts does.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { type EmbeddedPg, startEmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { createLogger } from '../../src/log.ts';
import { freePort } from '../helpers/postgres.ts';

const log = createLogger('silent');

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

async function sqlError(url: string, text: string): Promise<string | undefined> {
  return withClient(url, (c) =>
    c.query(text).then(
      () => undefined,
      (e: { code?: string }) => e.code,
    ),
  );
}

function withPassword(url: string, user: string, password: string, database = 'postgres'): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  u.pathname = `/${database}`;
  return u.toString();
}

async function loginError(url: string): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  try {
    await c.connect();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  } finally {
    await c.end().catch(() => {});
  }
}

describe('embedded PostgreSQL, fresh data folder', () => {
  let root: string;
  let dataDir: string;
  let port: number;
  let server: EmbeddedPg;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'chipwatch-locked-'));
    chmodSync(root, 0o755); // as root, the server runs as `postgres` and must pass through
    dataDir = join(root, 'pg');
    port = await freePort();
    server = await startEmbeddedPostgres({ dataDir, port, log });
    await migrate(server.url, log);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses the old fixed login postgres/chipwatch', async () => {
    expect(await loginError(withPassword(server.adminUrl, 'postgres', 'chipwatch'))).toBe('28P01');
    expect(await loginError(withPassword(server.adminUrl, 'chipwatch', 'chipwatch', 'chipwatch'))).toBe(
      '28P01',
    );
  });

  it('keeps both random passwords in files of mode 0600 owned by the user running chipwatch', () => {
    for (const file of [server.passwordFiles.superuser, server.passwordFiles.role]) {
      expect(file.startsWith(root)).toBe(true);
      const st = statSync(file);
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.uid).toBe(userInfo().uid);
    }
    expect(new URL(server.adminUrl).password).not.toBe(new URL(server.url).password);
  });

  it('listens on 127.0.0.1 only', async () => {
    const rows = await withClient(
      server.adminUrl,
      async (c) => (await c.query('SHOW listen_addresses')).rows,
    );
    expect(rows[0].listen_addresses).toBe('127.0.0.1');
  });

  it('connects chipwatch as its own role: not a superuser, no CREATEROLE/CREATEDB, in no server-file role', async () => {
    const me = await withClient(server.url, async (c) => {
      const r = await c.query(
        `SELECT current_user AS name, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
                pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS program,
                pg_has_role(current_user, 'pg_read_server_files', 'USAGE') AS read_files,
                pg_has_role(current_user, 'pg_write_server_files', 'USAGE') AS write_files
           FROM pg_roles r WHERE r.rolname = current_user`,
      );
      return r.rows[0];
    });
    expect(me).toEqual({
      name: 'chipwatch',
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      program: false,
      read_files: false,
      write_files: false,
    });
  });

  it("refuses chipwatch's role COPY … TO PROGRAM, CREATE ROLE and reading server files", async () => {
    expect(await sqlError(server.url, "COPY (SELECT 1) TO PROGRAM 'true'")).toBe('42501');
    expect(await sqlError(server.url, 'CREATE ROLE x')).toBe('42501');
    expect(await sqlError(server.url, "SELECT pg_read_file('PG_VERSION')")).toBe('42501');
    expect(await sqlError(server.url, 'ALTER ROLE postgres PASSWORD NULL')).toBe('42501');
  });

  it("ran chipwatch's migrations as its role, which owns every table in its database", async () => {
    const owners = await withClient(server.url, async (c) => {
      const r = await c.query<{ tableowner: string; n: number }>(
        "SELECT tableowner, count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' GROUP BY tableowner",
      );
      return r.rows;
    });
    expect(owners).toHaveLength(1);
    expect(owners[0]!.tableowner).toBe('chipwatch');
    expect(owners[0]!.n).toBeGreaterThan(5);
    const db = await withClient(server.url, async (c) => {
      const r = await c.query(
        'SELECT current_database() AS name, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
      );
      return r.rows[0];
    });
    expect(db).toEqual({ name: 'chipwatch', owner: 'chipwatch' });
  });

  it('starts again on the same data folder with the same passwords, taking back rights granted meanwhile', async () => {
    const before = { url: server.url, adminUrl: server.adminUrl };
    await withClient(server.adminUrl, async (c) => {
      await c.query('GRANT pg_execute_server_program TO chipwatch');
      await c.query('ALTER ROLE chipwatch CREATEROLE');
    });
    await server.stop();
    server = await startEmbeddedPostgres({ dataDir, port, log });
    expect({ url: server.url, adminUrl: server.adminUrl }).toEqual(before);
    expect(await migrate(server.url, log)).toEqual([]);
    const rows = await withClient(
      server.url,
      async (c) => (await c.query('SELECT count(*)::int AS n FROM devices')).rows,
    );
    expect(rows[0].n).toBe(0);
    expect(await sqlError(server.url, "COPY (SELECT 1) TO PROGRAM 'true'")).toBe('42501');
    expect(await sqlError(server.url, 'CREATE ROLE x')).toBe('42501');
  });
});

describe('embedded PostgreSQL, data folder of an older chipwatch', () => {
  let root: string;
  let dataDir: string;
  let port: number;
  let server: EmbeddedPg | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'chipwatch-legacy-'));
    chmodSync(root, 0o755);
    dataDir = join(root, 'pg');
    port = await freePort();
    // Make the folder an older chipwatch left: superuser postgres/chipwatch, tables owned by postgres in the
    // `postgres` database, no role of chipwatch's own, no password files.
    const fresh = await startEmbeddedPostgres({ dataDir, port, log });
    const legacyUrl = withPassword(fresh.adminUrl, 'postgres', 'chipwatch');
    await withClient(
      withPassword(fresh.adminUrl, 'postgres', new URL(fresh.adminUrl).password, 'template1'),
      async (c) => {
        await c.query('DROP DATABASE chipwatch');
        await c.query('DROP ROLE chipwatch');
        await c.query("ALTER ROLE postgres PASSWORD 'chipwatch'");
      },
    );
    await migrate(legacyUrl, log);
    await withClient(legacyUrl, (c) =>
      c.query("INSERT INTO devices (id, created_by) VALUES ('trk-old', 'legacy')"),
    );
    await fresh.stop();
    rmSync(fresh.passwordFiles.superuser);
    rmSync(fresh.passwordFiles.role);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it("replaces the fixed superuser password and hands the tables and their data to chipwatch's role", async () => {
    server = await startEmbeddedPostgres({ dataDir, port, log });
    expect(await loginError(withPassword(server.adminUrl, 'postgres', 'chipwatch'))).toBe('28P01');
    expect(statSync(server.passwordFiles.superuser).mode & 0o777).toBe(0o600);
    expect(await migrate(server.url, log)).toEqual([]);
    const seen = await withClient(server.url, async (c) => ({
      devices: (await c.query('SELECT id, created_by FROM devices')).rows,
      owners: (
        await c.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
      ).rows.map((r) => r.tableowner),
      superuser: (await c.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]
        .rolsuper,
    }));
    expect(seen).toEqual({
      devices: [{ id: 'trk-old', created_by: 'legacy' }],
      owners: ['chipwatch'],
      superuser: false,
    });
    // chipwatch's role can write to what it now owns, sequences included.
    await withClient(server.url, (c) =>
      c.query(
        "INSERT INTO rejections (received_at, topic, reason, detail, authenticated, raw, raw_size) VALUES (now(), 't', 'r', 'd', false, '\\x00', 1)",
      ),
    );
    // The operator's `postgres` database is there again, empty.
    const tables = await withClient(
      server.adminUrl,
      async (c) => (await c.query("SELECT to_regclass('public.devices') AS t")).rows,
    );
    expect(tables[0].t).toBeNull();
    expect(await sqlError(server.url, "COPY (SELECT 1) TO PROGRAM 'true'")).toBe('42501');
  });
});
