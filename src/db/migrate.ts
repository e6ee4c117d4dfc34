// Applies migrations/*.sql forward-only at start, each in its own transaction, under node-pg-migrate's advisory
// lock, so several processes starting at once do not collide. Before the first migration it creates TimescaleDB
// when the server offers it; migration 0001 then makes telemetry a hypertable if the extension is in the database.
// Nothing here reads a setting only superusers may read: chipwatch migrates under a role that merely owns its
// database.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../log.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function migrate(databaseUrl: string, log?: Logger): Promise<string[]> {
  await ensureTimescale(databaseUrl, log);
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    checkOrder: true,
    singleTransaction: false,
    log: (msg: string) => log?.debug({ part: 'migrate' }, msg),
    verbose: false,
  });
  return applied.map((m) => m.name);
}

export type TimescaleState = 'installed' | 'unavailable' | 'not-created' | 'skipped';

/**
 * On a database chipwatch has not migrated yet, creates the timescaledb extension if the server offers it
 * (`pg_available_extensions`, readable by anyone). Creating it may be refused — the role lacks the privilege, or
 * the library is not preloaded, which TimescaleDB reports as FATAL and ends the session — so it is tried on a
 * connection of its own and a refusal leaves plain tables, with a log line saying what an administrator can do.
 * A database already migrated keeps what it has: its tables were made plain or hypertables by migration 0001.
 */
export async function ensureTimescale(databaseUrl: string, log?: Logger): Promise<TimescaleState> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a FATAL from the extension's loader ends this session; the query reports it
  await client.connect();
  try {
    const found = await client.query<{ installed: boolean; available: boolean; migrated: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
              to_regclass('schema_migrations') IS NOT NULL AS migrated`,
    );
    const { installed, available, migrated } = found.rows[0]!;
    if (installed) return 'installed';
    if (!available) return 'unavailable';
    if (migrated) return 'skipped';
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      log?.info({ part: 'migrate' }, 'created the timescaledb extension');
      return 'installed';
    } catch (err) {
      if (await timescaleInstalled(databaseUrl)) return 'installed'; // another starter created it meanwhile
      log?.warn(
        { part: 'migrate', reason: (err as Error).message },
        'TimescaleDB is available on this server but could not be created, so telemetry uses plain tables. ' +
          'To use it: add timescaledb to shared_preload_libraries, restart PostgreSQL, and have a superuser run ' +
          '"CREATE EXTENSION timescaledb" in this database before chipwatch first migrates it',
      );
      return 'not-created';
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function timescaleInstalled(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    return r.rowCount === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
