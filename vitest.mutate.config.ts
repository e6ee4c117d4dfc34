// The vitest run StrykerJS drives (npm run mutate): only unit tests — no database,
// no broker, no global setup — so each mutant costs milliseconds.
import { defineConfig } from 'vitest/config';

/** Every unit test but the architecture and simulator suites, which cover none of the mutated modules. */
export const MUTATION_TESTS = ['tests/unit/**/*.test.ts'];
export const NOT_FOR_MUTATION = ['tests/unit/architecture.test.ts', 'tests/unit/sim/**'];

export default defineConfig({
  test: {
    include: MUTATION_TESTS,
    exclude: NOT_FOR_MUTATION,
    testTimeout: 20_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
