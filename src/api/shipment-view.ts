// The shapes of a shipment in the API: what may be registered and what is shown.

import { checkParamsSchema } from '../checks/params.ts';
import type { ShipmentRecord } from '../checks/shipment.ts';
import { z } from './openapi.ts';
import { id, iso2, lat, lon, time } from './schemas.ts';

const place = (radiusKm: number) =>
  z.object({
    name: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(2000).default(radiusKm),
  });
/** `[lon, lat]` in range (RFC 7946 order). */
const position = z.tuple([lon, lat]);
/** A planned route's size is bounded: its index and corridor are built at registration. */
const MAX_ROUTE_VERTICES = 20_000;
const MAX_ROUTE_PARTS = 100;
const line = z.array(position).min(2).max(MAX_ROUTE_VERTICES);
export const mode = z.enum(['sea', 'air', 'road']);
export const shipmentStatus = z.enum(['planned', 'in_transit', 'arrived', 'installed', 'cancelled']);

const freeTextLicences = z
  .array(z.object({ country: iso2, number: z.string().min(1).max(200) }))
  .max(100)
  .default([])
  .openapi({
    description:
      'free-text licences (kept for compatibility): compliance or admin only; logistics cites granted licences in `licenceIds`',
  });

export const shipmentBody = z.object({
  id,
  reference: z.string().max(200).optional(),
  customer: z.string().min(1).max(200).optional(),
  deviceId: id,
  mode,
  origin: place(25),
  // Without radiusKm, the destination's radius fits the place: a port 15 km, an airport or warehouse 5 km
  // (defaultDestinationRadiusKm); a registered site keeps its own.
  destination: z.union([
    z.object({
      name: z.string().max(200).optional(),
      lat,
      lon,
      radiusKm: z.number().positive().max(2000).optional(),
    }),
    z.object({ siteId: id }),
  ]),
  route: z
    .union([
      z.object({ type: z.literal('LineString'), coordinates: line }),
      z.object({
        type: z.literal('MultiLineString'),
        coordinates: z.array(line).min(1).max(MAX_ROUTE_PARTS),
      }),
      z.object({
        legs: z
          .array(z.object({ mode, coordinates: line }))
          .min(1)
          .max(MAX_ROUTE_PARTS),
      }),
    ])
    .optional(),
  corridorKm: z.number().positive().max(2000).default(50),
  reportIntervalS: z.number().int().min(1).max(86_400).default(300),
  chips: z.array(z.string().min(1).max(128)).max(100_000).default([]),
  restrictedCountries: z.array(iso2).optional().openapi({
    description:
      "replaces the policy's restricted tier for this shipment; from logistics it must keep every policy-restricted code",
  }),
  licenceIds: z
    .array(id)
    .max(100)
    .default([])
    .openapi({ description: 'licences granted by compliance (POST /v1/licences) this shipment cites' }),
  licenses: freeTextLicences,
  plannedStops: z.array(place(25)).max(100).default([]),
  params: checkParamsSchema.default({}),
});

/** PATCH /v1/shipments/{id}: the policy fields, each replacing the current value when given, and why. */
export const policyChangeBody = z
  .object({
    restrictedCountries: z
      .array(iso2)
      .nullable()
      .optional()
      .openapi({ description: 'null: the global policy' }),
    corridorKm: z.number().positive().max(2000).optional(),
    params: checkParamsSchema.optional().openapi({ description: 'replaces the whole `params` object' }),
    licenceIds: z.array(id).max(100).optional().openapi({ description: 'replaces the cited licences' }),
    licenses: freeTextLicences.optional(),
    reason: z
      .string()
      .min(1)
      .max(2000)
      .regex(/\S/, 'must not be blank')
      .openapi({ description: 'why: kept in the audit trail', example: 'licence D1234567 granted' }),
  })
  .strict();

const placeSchema = z.object({
  name: z.string().optional(),
  lat: z.number(),
  lon: z.number(),
  radiusKm: z.number(),
  siteId: z.string().optional(),
});

export const shipmentSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable(),
    customer: z.string().nullable().openapi({
      description: 'who the shipment is for: channels filtered by `customers` hear of its alerts',
    }),
    deviceId: z.string(),
    mode,
    status: shipmentStatus,
    origin: placeSchema,
    destination: placeSchema,
    corridorKm: z.number(),
    reportIntervalS: z.number(),
    chips: z.array(z.string()),
    restrictedCountries: z.array(z.string()).nullable(),
    licenses: z.array(z.object({ country: z.string(), number: z.string() })),
    licenceIds: z.array(z.string()),
    plannedStops: z.array(placeSchema),
    params: z.record(z.string(), z.unknown()),
    routeLengthKm: z.number(),
    lastPosition: z.object({ ts: time, lat: z.number(), lon: z.number() }).nullable(),
    progress: z
      .object({ km: z.number(), percent: z.number() })
      .nullable()
      .openapi({ description: 'along the planned route, from the last fix' }),
    createdAt: time,
    startedAt: time.nullable(),
    arrivedAt: time.nullable(),
    installedAt: time
      .nullable()
      .openapi({ description: 'when every chip was attested at the destination site' }),
  })
  .openapi('Shipment');

/** Progress along the planned route from the last fix, km and percent, one decimal. */
export function progressOf(progressKm: number | null, routeLengthKm: number) {
  if (progressKm === null) return null;
  return {
    km: Math.round(progressKm * 10) / 10,
    percent: Math.min(100, Math.round((progressKm / Math.max(routeLengthKm, 1e-9)) * 1000) / 10),
  };
}

export function shipmentView(s: ShipmentRecord) {
  return {
    id: s.id,
    reference: s.reference,
    customer: s.customer ?? null,
    deviceId: s.deviceId,
    mode: s.mode,
    status: s.status,
    origin: s.origin,
    destination: s.destination,
    corridorKm: s.corridorKm,
    reportIntervalS: s.reportIntervalS,
    chips: s.chips,
    restrictedCountries: s.restrictedCountries,
    licenses: s.licenses,
    licenceIds: s.licenceIds ?? [],
    plannedStops: s.plannedStops,
    params: s.params,
    routeLengthKm: Math.round(s.route.lengthKm * 10) / 10,
    lastPosition: s.lastFix,
    progress: progressOf(s.progressKm, s.route.lengthKm),
    createdAt: s.createdAt,
    startedAt: s.startedAt,
    arrivedAt: s.arrivedAt,
    installedAt: s.installedAt,
  };
}
