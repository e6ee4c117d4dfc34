// The vitest run StrykerJS drives (npm run mutate): only the unit tests of the pure core it mutates — no database,
// no broker, no global setup — so each mutant costs milliseconds. The list is the one in stryker.config.mjs.
import { defineConfig } from 'vitest/config';

export const MUTATION_TESTS = [
  'tests/unit/verify/screen.test.ts',
  'tests/unit/verify/replay-window.test.ts',
  'tests/unit/verify/keys.test.ts',
  'tests/unit/verify/ack.test.ts',
  'tests/unit/ingest/decide.test.ts',
  'tests/unit/ingest/acks.test.ts',
  'tests/unit/alerts/rules.test.ts',
  'tests/unit/checks/checks.test.ts',
  'tests/unit/checks/core-mutants.test.ts',
  'tests/unit/auth.test.ts',
  'tests/unit/api/hardening.test.ts',
  'tests/unit/delivery/signature.test.ts',
];

export default defineConfig({
  test: {
    include: MUTATION_TESTS,
    testTimeout: 20_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
