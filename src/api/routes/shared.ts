// Pieces shared by the routers: time-range query parameters and resource views.
import { z } from 'zod';
import type { DeviceRow } from '../../db/devices.ts';

const rfc3339 = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time, e.g. 2026-11-21T10:00:00Z')
  .transform((s) => Date.parse(s));

/** `from` (inclusive) and `to` (exclusive) as RFC 3339; defaults: the beginning of time, and far in the future. */
export const timeRange = z
  .object({
    from: rfc3339.optional().transform((v) => v ?? 0),
    to: rfc3339.optional().transform((v) => v ?? 8.64e15),
  })
  .refine((r) => r.from < r.to, { message: 'from must be before to', path: ['from'] });

export function deviceView(d: DeviceRow) {
  return {
    id: d.id,
    status: d.revokedAt ? 'revoked' : 'active',
    createdAt: d.createdAt.toISOString(),
    revokedAt: d.revokedAt?.toISOString() ?? null,
    keys: d.keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      createdAt: new Date(k.createdAt).toISOString(),
      revokedAt: k.revokedAt ? new Date(k.revokedAt).toISOString() : null,
    })),
  };
}
