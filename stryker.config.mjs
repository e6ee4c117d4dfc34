// Mutation testing of chipwatch's pure core (npm run mutate; not in CI, not in npm test: it takes minutes).
// StrykerJS mutates the modules below and runs, for each mutant, only the unit tests that cover it (perTest
// coverage); incremental mode reuses the results of unchanged code and tests from reports/stryker-incremental.json.
// The unit tests it runs are listed in vitest.mutate.config.ts. Figures: README "Mutation testing".
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  mutate: [
    'src/verify/screen.ts',
    'src/verify/replay-window.ts',
    'src/verify/ack.ts',
    'src/verify/keys.ts',
    'src/ingest/decide.ts',
    'src/ingest/stages/acks.ts',
    'src/alerts/rules.ts',
    'src/checks/route-deviation.ts',
    'src/checks/gap.ts',
    'src/checks/tamper.ts',
    'src/checks/spoofing.ts',
    'src/checks/zone.ts',
    'src/auth.ts',
    'src/delivery/signature.ts',
  ],
  // The sandbox holds only what the unit tests import; no tsconfig.json, whose rewriting needs TypeScript's JS API
  // (gone in TypeScript 7): vitest needs none.
  ignorePatterns: ['/*', '!/src', '!/tests', '!/device-sim', '!/policy', '!/package.json', '!/vitest.mutate.config.ts'],
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  cleanTempDir: 'always',
};
