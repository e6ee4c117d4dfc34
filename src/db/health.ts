// What the process asks of its database at start and on /readyz.
import type { Pool } from './pool.ts';

/** Whether the TimescaleDB extension is installed in this database (no superuser-only setting read). */
export async function hasTimescale(db: Pool): Promise<boolean> {
  return (await db.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).rowCount === 1;
}

/** One round trip: throws when the database cannot answer. */
export async function ping(db: Pool): Promise<void> {
  await db.query('SELECT 1');
}
