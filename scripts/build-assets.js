// Second half of `npm run build`: beside the JavaScript tsc emitted into dist/, the files the code reads at run time
// by a path relative to itself (migrations, policy, dashboard, scenarios, the signature worker), so dist/ runs alone:
// `node dist/src/main.js` from a folder holding package.json and node_modules.
// Usage: node scripts/build-assets.js [outDir] (default dist), run from the repository root.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? 'dist';
const copies = ['migrations', 'policy', 'public', 'device-sim/scenarios', 'src/verify/ed25519-worker.js'];
for (const path of copies) cpSync(path, join(out, path), { recursive: true });
// dist/ is ESM on its own, wherever it is copied.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
