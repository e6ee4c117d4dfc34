// The export-control policy: which countries are restricted, need a licence, or are watched, loaded from a
// JSON file (policy/default-policy.json, or the file CW_POLICY names) and validated before anything uses it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import countries from 'i18n-iso-countries';
import { z } from 'zod';
import type { ZoneTier } from './types.ts';

/** The policy shipped with chipwatch. */
export const DEFAULT_POLICY_PATH = fileURLToPath(
  new URL('../../policy/default-policy.json', import.meta.url),
);

/** A Natural Earth entity without an ISO 3166-1 code, with the tier the policy gives it. */
export interface EntityPolicy {
  /** Name-based key, e.g. `XK-Kosovo`; used as the zone id. */
  key: string;
  /** `properties.name` of the world-atlas feature. */
  naturalEarthName: string;
  /** ISO alpha-2 (or XK) of the country it belongs to de jure or is administered by, when there is one. */
  country?: string;
  tier: ZoneTier;
  reason: string;
}

export interface Policy {
  /** Date the lists were checked against 15 CFR 740 Supp. 1, YYYY-MM-DD. */
  checkedAt: string;
  checkedAgainst: string;
  restricted: ReadonlySet<string>;
  licenseRequired: ReadonlySet<string>;
  watch: ReadonlySet<string>;
  /** What could not be confirmed, for the operator to read. */
  unverified: readonly string[];
  /** Entities without ISO codes, by Natural Earth name. */
  entitiesByName: ReadonlyMap<string, EntityPolicy>;
  /** The strongest tier of an ISO alpha-2 code or entity key: restricted > licenseRequired > watch > none. */
  tierOf(code: string): ZoneTier;
}

const iso2 = z
  .string()
  .regex(/^[A-Z]{2}$/, 'must be an upper-case ISO 3166-1 alpha-2 code')
  .refine((c) => countries.isValid(c), 'is not an ISO 3166-1 alpha-2 code');

const tier = z.object({
  countries: z.array(iso2),
  source: z.string().min(1),
  rule: z.string().min(1),
});

const fileSchema = z.object({
  checkedAt: z.iso.date(),
  checkedAgainst: z.string().min(1),
  // Kept in the file for provenance (the tiers are derived from them); not used at run time.
  countryGroups: z.record(z.string(), z.array(iso2)).optional(),
  tiers: z.object({ restricted: tier, licenseRequired: tier, watch: tier }),
  unverified: z.array(z.string()),
  entitiesWithoutCode: z.record(
    z.string().min(1),
    z.object({
      naturalEarthName: z.string().min(1),
      // XK (Kosovo) is user-assigned, so only the shape is checked here.
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .optional(),
      tier: z.enum(['restricted', 'licenseRequired', 'watch', 'none']),
      reason: z.string().min(1),
    }),
  ),
});

export class PolicyError extends Error {}

/** Reads and validates a policy file; throws PolicyError naming the file and every problem. */
export function loadPolicy(path: string = DEFAULT_POLICY_PATH): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new PolicyError(`policy file ${path}: cannot read JSON`, { cause: e });
  }
  return parsePolicy(raw, path);
}

/** Validates an already-parsed policy document; `origin` names it in error messages. */
export function parsePolicy(raw: unknown, origin = 'policy'): Policy {
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new PolicyError(`policy file ${origin} is invalid:\n${lines.join('\n')}`);
  }
  const file = result.data;
  const restricted = new Set(file.tiers.restricted.countries);
  const licenseRequired = new Set(file.tiers.licenseRequired.countries);
  const watch = new Set(file.tiers.watch.countries);
  // The tiers are meant to be disjoint where the rules say so; an overlap means a hand edit went wrong.
  const overlaps = [
    ...[...licenseRequired]
      .filter((c) => restricted.has(c))
      .map((c) => `${c} is both restricted and licenseRequired`),
    ...[...watch].filter((c) => restricted.has(c)).map((c) => `${c} is both restricted and watch`),
  ];
  if (overlaps.length > 0) throw new PolicyError(`policy file ${origin}: ${overlaps.join('; ')}`);

  const entitiesByName = new Map<string, EntityPolicy>();
  const entityTier = new Map<string, ZoneTier>();
  for (const [key, e] of Object.entries(file.entitiesWithoutCode)) {
    entitiesByName.set(e.naturalEarthName, { key, ...e });
    entityTier.set(key, e.tier);
  }

  return {
    checkedAt: file.checkedAt,
    checkedAgainst: file.checkedAgainst,
    restricted,
    licenseRequired,
    watch,
    unverified: file.unverified,
    entitiesByName,
    tierOf(code: string): ZoneTier {
      if (restricted.has(code)) return 'restricted';
      if (licenseRequired.has(code)) return 'licenseRequired';
      if (watch.has(code)) return 'watch';
      return entityTier.get(code) ?? 'none';
    },
  };
}
