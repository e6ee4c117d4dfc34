// Applies migrations/*.sql forward-only at start, each in its own transaction, under node-pg-migrate's advisory
// lock, so several processes starting at once do not collide.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../log.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function migrate(databaseUrl: string, log?: Logger): Promise<string[]> {
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
