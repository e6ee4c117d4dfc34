// Thresholds of the site checks, each overridable per site (`params` of POST /v1/sites).
import { z } from 'zod';
import { LIGHT_KM_PER_MS } from '../geo/feasible-region.ts';

export const SITE_PARAM_DEFAULTS = {
  /** A delivered serial absent from the site's attestations this long raises CHIP_MISSING (6 h: a maintenance window). */
  chipMissingAfterS: 6 * 3600,
  /** A site silent this long raises CHIP_MISSING for all its chips (3 h: several missed hourly attestations). */
  siteSilentAfterS: 3 * 3600,
  /** The fastest a serial can move between two sites: light by default (the only bound physics guarantees). */
  chipMaxTravelKmh: LIGHT_KM_PER_MS * 3_600_000,
};

export type SiteParams = typeof SITE_PARAM_DEFAULTS;

export const siteParamsSchema = z
  .object({
    chipMissingAfterS: z
      .number()
      .positive()
      .max(365 * 86_400),
    siteSilentAfterS: z
      .number()
      .positive()
      .max(365 * 86_400),
    chipMaxTravelKmh: z.number().positive(),
  })
  .partial()
  .strict();

export function siteParams(own: Record<string, unknown> = {}): SiteParams {
  const parsed = siteParamsSchema.safeParse(own);
  return { ...SITE_PARAM_DEFAULTS, ...(parsed.success ? parsed.data : {}) };
}
