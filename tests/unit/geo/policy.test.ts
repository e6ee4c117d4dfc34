// The default export-control policy: tiers follow the EAR country-group rules the file states, and a bad
// file is refused with a message naming what is wrong.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorldFeatures } from '../../../src/geo/countries.ts';
import { DEFAULT_POLICY_PATH, loadPolicy, PolicyError, parsePolicy } from '../../../src/geo/policy.ts';

const policy = loadPolicy();
const file = JSON.parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8'));
const sorted = (s: Iterable<string>) => [...s].sort();
const group = (name: string): string[] => file.countryGroups[name];

describe('default policy tiers', () => {
  it('restricts D:5 ∪ E:1 ∪ E:2 plus Hong Kong and Macau', () => {
    const rule = new Set([...group('D:5'), ...group('E:1'), ...group('E:2'), 'HK', 'MO']);
    expect(sorted(policy.restricted)).toEqual(sorted(rule));
    expect(sorted(policy.restricted)).toEqual(
      'AF BY CD CF CN CU ER HK HT IQ IR KP LB LY MM MO NI RU SD SO SS SY VE ZW'.split(' '),
    );
  });

  it('requires a licence for D:1 ∪ D:4 minus restricted minus Israel (A:6)', () => {
    const rule = new Set(
      [...group('D:1'), ...group('D:4')].filter((c) => !policy.restricted.has(c) && c !== 'IL'),
    );
    expect(sorted(policy.licenseRequired)).toEqual(sorted(rule));
    expect(policy.licenseRequired.has('IL')).toBe(false);
    expect(policy.tierOf('IL')).toBe('none');
    for (const c of policy.licenseRequired) expect(policy.restricted.has(c)).toBe(false);
  });

  it('watches the transshipment hubs except Hong Kong, which is restricted', () => {
    expect(sorted(policy.watch)).toEqual(['AE', 'AM', 'GE', 'KG', 'KZ', 'MY', 'SG', 'TH', 'VN']);
    expect(policy.watch.has('HK')).toBe(false);
    expect(policy.tierOf('HK')).toBe('restricted');
    expect(policy.tierOf('MO')).toBe('restricted');
  });

  it('gives each code its strongest tier while keeping every membership', () => {
    for (const c of ['AE', 'VN', 'KZ', 'KG', 'AM', 'GE']) {
      expect(policy.watch.has(c)).toBe(true);
      expect(policy.licenseRequired.has(c)).toBe(true);
      expect(policy.tierOf(c)).toBe('licenseRequired');
    }
    expect(policy.tierOf('CN')).toBe('restricted');
    expect(policy.tierOf('SG')).toBe('watch');
    expect(policy.tierOf('NL')).toBe('none');
    expect(policy.tierOf('KH')).toBe('licenseRequired');
  });

  it('decides a tier for every Natural Earth entity without an ISO code, at both resolutions', () => {
    for (const res of ['50m', '10m'] as const) {
      const unnamed = loadWorldFeatures(res).features.filter((f) => f.id === undefined);
      for (const f of unnamed)
        expect(policy.entitiesByName.get(f.properties.name), f.properties.name).toBeDefined();
    }
    expect(policy.tierOf('XK-Kosovo')).toBe('none');
    expect(policy.tierOf('CY-N-Northern Cyprus')).toBe('none');
    expect(policy.tierOf('SOL-Somaliland')).toBe(policy.tierOf('SO'));
  });

  it('says when it was checked and what it could not confirm', () => {
    expect(policy.checkedAt).toMatch(/^2026-\d\d-\d\d$/);
    expect(policy.checkedAgainst).toMatch(/740/);
    const notes = policy.unverified.join('\n');
    for (const topic of ['Cambodia', 'Syria', 'Crimea', 'Donetsk']) expect(notes).toContain(topic);
  });
});

describe('loading a policy file', () => {
  const withTiers = (tiers: Record<string, string[]>) => ({
    ...file,
    tiers: Object.fromEntries(
      Object.entries(file.tiers as Record<string, object>).map(([k, v]) => [
        k,
        { ...v, countries: tiers[k] ?? [] },
      ]),
    ),
  });

  it('reads another file by path (what CW_POLICY points at)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-policy-'));
    const path = join(dir, 'policy.json');
    writeFileSync(
      path,
      JSON.stringify(withTiers({ restricted: ['RU'], licenseRequired: ['CN'], watch: ['SG'] })),
    );
    const custom = loadPolicy(path);
    expect(custom.tierOf('RU')).toBe('restricted');
    expect(custom.tierOf('CN')).toBe('licenseRequired');
    expect(custom.tierOf('IR')).toBe('none');
  });

  it('refuses codes that are not ISO 3166-1 alpha-2', () => {
    expect(() => parsePolicy(withTiers({ restricted: ['XX'] }))).toThrow(/tiers\.restricted\.countries\.0/);
    expect(() => parsePolicy(withTiers({ restricted: ['ru'] }))).toThrow(PolicyError);
  });

  it('refuses a country that is both restricted and licenseRequired or watch', () => {
    expect(() => parsePolicy(withTiers({ restricted: ['CN'], licenseRequired: ['CN'] }))).toThrow(
      /CN is both/,
    );
    expect(() => parsePolicy(withTiers({ restricted: ['HK'], watch: ['HK'] }))).toThrow(/HK is both/);
  });

  it('refuses a tier without its source and a file that is not JSON', () => {
    const noSource = { ...file, tiers: { ...file.tiers, watch: { countries: ['SG'], rule: 'x' } } };
    expect(() => parsePolicy(noSource)).toThrow(/tiers\.watch\.source/);
    const dir = mkdtempSync(join(tmpdir(), 'cw-policy-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(() => loadPolicy(join(dir, 'bad.json'))).toThrow(/cannot read JSON/);
  });
});
