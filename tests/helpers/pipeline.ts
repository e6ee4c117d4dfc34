// The ingest pipeline driven directly in tests (no broker): its options as chipwatch's defaults set them, and a
// migrated database of the file's own with pools on it, opened before the file's tests and closed after them.
import { afterAll, beforeAll, inject } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import type { PipelineOptions } from '../../src/ingest/pipeline.ts';
import { createTestDatabase } from './postgres.ts';

/** chipwatch's defaults for the pipeline (topic prefix, 64 KiB messages, 5 min clock skew), with `overrides`. */
export function pipelineTestOptions(overrides: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    topicPrefix: 'chipwatch/v1',
    maxMessageBytes: 65536,
    rawCapBytes: 65536,
    maxClockSkewMs: 300_000,
    ...overrides,
  };
}

/** `count` pools (as many ingest workers) on a fresh migrated database; `pools` is filled before the tests run. */
export function useMigratedPools(count = 1, size = 4): { pools: Pool[] } {
  const held = { pools: [] as Pool[] };
  beforeAll(async () => {
    const url = await createTestDatabase(inject('pgAdminUrl'));
    await migrate(url);
    held.pools = Array.from({ length: count }, () => createPool(url, size));
  });
  afterAll(async () => {
    for (const p of held.pools) await p.end();
  });
  return held;
}
