import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration files each start their own broker and database; two at a time suits a 2-core machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
