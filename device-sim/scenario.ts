// Named scenarios: small JSON files in device-sim/scenarios/, validated here. A scenario describes one shipment (its
// legs, transfers and tracker), the data centers around it, the incidents that befall them, and the alerts and
// rejections chipwatch must answer with. What each field means is in the README ("Device simulator").
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);
const latLon = z.object({ lat, lon }).strict();
const place = z
  .object({
    name: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(2000).optional(),
  })
  .strict();
const mode = z.enum(['sea', 'air', 'road']);
const hours = z
  .number()
  .min(0)
  .max(24 * 365);

/** When an incident starts: hours after the scenario starts, or a fraction of one leg's distance. */
const at = z.union([
  z.object({ hours }).strict(),
  z.object({ leg: z.number().int().min(0), fraction: z.number().min(0).max(1) }).strict(),
]);

const leg = z
  .object({
    mode,
    to: place,
    /** Road legs (and air legs flying a filed airway): the polyline between the previous place and `to`, [lon, lat]. */
    path: z.array(z.tuple([lon, lat])).optional(),
    speedKmh: z.number().positive().max(1400).optional(),
    /** The tracker records but cannot transmit on this leg (flight mode in a hold); it sends the backlog after. */
    offline: z.boolean().optional(),
    /** Transfer time at `to` before the next leg (a planned stop), or the final dwell at the destination. */
    dwellH: hours.optional(),
  })
  .strict();

const event = z.discriminatedUnion('type', [
  // Leaves the route at `at` for `toward` and stays there once reached; the scenario ends `forH` later.
  z
    .object({
      type: z.literal('divert'),
      at,
      toward: latLon,
      speedKmh: z.number().positive().optional(),
      forH: hours,
      /** An aircraft descends and slows over the last 25 minutes, and lands at `toward`. */
      land: z.boolean().optional(),
    })
    .strict(),
  // Records nothing for `forH`; reappears `shiftKm` to the `side` of its course and carries on for `afterH`.
  z
    .object({
      type: z.literal('dark'),
      at,
      forH: hours,
      shiftKm: z.number().min(0),
      side: z.enum(['left', 'right']).default('right'),
      afterH: hours,
    })
    .strict(),
  // Records but cannot transmit for `forH`; the backlog goes out in messages of at most 500 records.
  z.object({ type: z.literal('offline'), at, forH: hours }).strict(),
  // Stands still for `forH` where it is (a ship at anchor swings within `swingM` of it), then carries on.
  z
    .object({ type: z.literal('stop'), at, forH: hours, swingM: z.number().min(0).max(3000).optional() })
    .strict(),
  // GNSS spoofing: for `forH` the receiver reports `to` (a point a spoofer pins it to) at speed 0; then true again.
  z.object({ type: z.literal('spoof'), at, forH: hours, to: latLon }).strict(),
  // A synthetic track for `forH`: no GNSS noise, constant speed, hdop and satellites (a simulator, not a receiver).
  z.object({ type: z.literal('synthetic'), at, forH: hours }).strict(),
  z.object({ type: z.literal('tamper'), at }).strict(),
  z.object({ type: z.literal('light'), at, forH: hours, lux: z.number().positive() }).strict(),
  // One reported fix `km` away on `bearingDeg` (a spoofed GNSS receiver); the next is true again.
  z
    .object({
      type: z.literal('teleport'),
      at,
      km: z.number().positive(),
      bearingDeg: z.number().min(0).max(360),
    })
    .strict(),
  // `fixes` reports with exactly the same coordinates while the speed says it moves (a replayed GNSS track).
  z.object({ type: z.literal('frozen'), at, fixes: z.number().int().min(2).max(100) }).strict(),
  // An attacker without the key publishes `count` fabricated messages under the tracker's kid (SIGNATURE_INVALID),
  // or with `kid: "own"` under the attacker's own, unregistered kid (UNKNOWN_KEY).
  z
    .object({
      type: z.literal('forge'),
      at,
      count: z.number().int().min(1).max(100),
      kid: z.enum(['tracker', 'own']).default('tracker'),
    })
    .strict(),
  // An attacker re-publishes the `count` latest genuine messages byte for byte (duplicates: harmless).
  z.object({ type: z.literal('replay'), at, count: z.number().int().min(1).max(100) }).strict(),
  // A clone holding the tracker's extracted key publishes other payloads under `count` used seqs (REPLAY).
  z.object({ type: z.literal('clone'), at, count: z.number().int().min(1).max(100) }).strict(),
]);

const shipment = z
  .object({
    origin: place,
    /** Time at the origin before departure (loading). */
    dwellH: hours.optional(),
    legs: z.array(leg).min(1).max(20),
    /** The destination is a data center of this scenario (its `key`) instead of the last leg's place. */
    destinationSite: z.string().optional(),
    corridorKm: z.number().positive().max(2000).optional(),
    /** Report interval per mode, seconds (default sea 3600, air 900, road 300). */
    reportIntervalS: z
      .object({
        sea: z.number().int().min(10),
        air: z.number().int().min(10),
        road: z.number().int().min(10),
      })
      .partial()
      .strict()
      .optional(),
    params: z.record(z.string(), z.number()).optional(),
    restrictedCountries: z.array(z.string()).optional(),
    licenses: z.array(z.object({ country: z.string(), number: z.string() }).strict()).optional(),
    chips: z.number().int().min(0).max(1000).optional(),
    alg: z.enum(['EdDSA', 'ES256']).optional(),
  })
  .strict();

const landmark = z.object({ id: z.string().min(1).max(60), lat, lon }).strict();

const site = z
  .object({
    key: z.string().regex(/^[a-z0-9-]{1,30}$/),
    name: z.string().max(200),
    endUser: z.string().max(200).optional(),
    lat,
    lon,
    radiusKm: z.number().positive().max(2000),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .optional(),
    /** Where the servers really are: RTTs are measured from here (default: the registered point). */
    actualLocation: latLon.optional(),
    /** What its attestations claim (default: the registered point). */
    claimedLocation: latLon.optional(),
    landmarks: z.array(landmark).min(1).max(20),
    attestEveryH: z
      .number()
      .positive()
      .max(24 * 30),
    fromH: hours.optional(),
    untilH: hours.optional(),
    /** Serials it attests: the scenario shipment's chips (once delivered, or from the start), and extra ones. */
    chips: z
      .object({
        shipment: z.enum(['afterArrival', 'always', 'never']).default('never'),
        extra: z.number().int().min(0).max(1000).default(0),
      })
      .strict()
      .default({ shipment: 'never', extra: 0 }),
    params: z.record(z.string(), z.number()).optional(),
  })
  .strict();

const expectation = z.union([
  z
    .object({
      alert: z.string().regex(/^[A-Z_]{3,64}$/),
      withinH: hours.optional(),
      /** The country the alert must name (details.country). */
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .optional(),
    })
    .strict(),
  z.object({ rejection: z.string().regex(/^[A-Z_]{3,64}$/) }).strict(),
]);

export const scenarioSchema = z
  .object({
    description: z.string().min(1),
    shipment: shipment.optional(),
    sites: z.array(site).max(10).optional(),
    events: z.array(event).max(50).default([]),
    /** Simulated length; default: until the shipment's last dwell, the last incident, or the last attestation. */
    durationH: hours.optional(),
    /** Incidents are timed from here for time-to-detect (default: the first event, else the start). */
    incidentAt: at.optional(),
    expect: z.array(expectation).default([]),
    /** Alert types that may be raised without being expected (e.g. SIGNAL_LOST in a scenario that goes dark). */
    allow: z.array(z.string()).default([]),
  })
  .strict()
  .refine((s) => s.shipment || (s.sites?.length ?? 0) > 0, 'a scenario needs a shipment or a site');

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioEvent = z.infer<typeof event>;
export type ScenarioLeg = z.infer<typeof leg>;
export type ScenarioSite = z.infer<typeof site>;
export type ScenarioShipment = z.infer<typeof shipment>;
export type At = z.infer<typeof at>;
export type Expectation = z.infer<typeof expectation>;

export interface NamedScenario {
  name: string;
  scenario: Scenario;
}

export function parseScenario(name: string, raw: unknown): NamedScenario {
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`scenario ${name}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const s = r.data;
  const siteKeys = new Set((s.sites ?? []).map((x) => x.key));
  if (s.shipment?.destinationSite && !siteKeys.has(s.shipment.destinationSite)) {
    throw new Error(
      `scenario ${name}: shipment.destinationSite ${s.shipment.destinationSite} is not one of its sites`,
    );
  }
  if (!s.shipment && s.events.length > 0) throw new Error(`scenario ${name}: events need a shipment`);
  return { name, scenario: s };
}

/** Every scenario file's name (without .json), sorted. */
export function scenarioNames(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export function loadScenario(name: string, dir = SCENARIO_DIR): NamedScenario {
  if (!/^[a-z0-9-]+$/.test(name))
    throw new Error(`scenario names are lower-case words joined by -, got ${name}`);
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.json`), 'utf8');
  } catch {
    throw new Error(`no scenario ${name}; known: ${scenarioNames(dir).join(', ')}, or mixed`);
  }
  return parseScenario(name, JSON.parse(text));
}
