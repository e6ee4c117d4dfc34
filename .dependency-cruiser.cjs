// Layer rules of the house (README, "How the code is laid out"); run by `npm test` (tests/unit/architecture.test.ts).
// Each layer may import only those before it:
//   domain · config · log  →  geo · verify  →  checks · evidence · alerts/rules  →  db
//   →  alerts/apply · ingest · delivery  →  api  →  server · main · cli
const PURE = '^src/(domain|geo|verify|checks|evidence)/';
const ABOVE_DB = '^src/(ingest|delivery|api|embedded|broker|alerts/apply)|^src/(server|main|cli|metrics)\\.ts$';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles, type-only imports included', from: {}, to: { circular: true } },
    {
      name: 'pure-layers-do-no-io',
      severity: 'error',
      comment: 'domain, geo, verify, checks and evidence take values and return values: no database, broker, HTTP or upper layer',
      from: { path: PURE },
      to: { path: ['^src/(db|ingest|delivery|api|embedded|broker|alerts)/', '^src/(server|main|cli|metrics|auth)\\.ts$', 'node_modules/(pg|pg-pool|mqtt|mqtt-packet|aedes|hono|@hono)/'] },
    },
    {
      name: 'alert-rules-are-pure',
      severity: 'error',
      from: { path: '^src/alerts/rules' },
      to: { path: ['^src/(db|ingest|delivery|api|embedded)/', 'node_modules/(pg|mqtt|hono|@hono)/'] },
    },
    {
      name: 'db-imports-nothing-above-it',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: ABOVE_DB },
    },
    {
      name: 'only-db-imports-pg',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/db/' },
      to: { path: 'node_modules/(pg|pg-pool)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
