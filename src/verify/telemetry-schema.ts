// Telemetry payload schema (DESIGN.md "Wire protocol v1"): finite, in-range values; unknown fields dropped.
import { z } from 'zod';
import { Rejection } from '../domain/errors.ts';
import { findTextProblem, jsonBytesMayHoldBadText } from '../domain/text.ts';

/** 2000-01-01: earlier device times are a broken clock, not history. */
const MIN_TS_MS = 946_684_800_000;
const epochMs = z.number().int().min(MIN_TS_MS).max(8.64e15);
const finite = z.number();

export const recordSchema = z.object({
  ts: epochMs,
  lat: finite.min(-90).max(90),
  lon: finite.min(-180).max(180),
  altM: finite.min(-1000).max(50_000).optional(),
  speedKmh: finite.min(0).max(5000).optional(),
  headingDeg: finite.min(0).max(360).optional(),
  hdop: finite.min(0).max(100).optional(),
  satellites: z.number().int().min(0).max(200).optional(),
  batteryPct: finite.min(0).max(100).optional(),
  temperatureC: finite.min(-100).max(200).optional(),
  lightLux: finite.min(0).max(1e6).optional(),
  tamper: z.boolean().optional(),
});

export const telemetrySchema = z.object({
  v: z.literal(1),
  deviceId: z.string().min(1).max(128),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sentAt: epochMs,
  records: z.array(recordSchema).min(1).max(500),
});

export type TelemetryRecord = z.infer<typeof recordSchema>;
export type TelemetryPayload = z.infer<typeof telemetrySchema>;

/** The JSON text → a checked payload. `nowMs` is the receiver's clock. */
/** A JWS payload through its schema: MALFORMED when it is not JSON, SCHEMA_INVALID naming the first bad field. */
export function parsePayload<S extends z.ZodType>(payload: Buffer, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new Rejection('MALFORMED', 'payload is not JSON');
  }
  // PostgreSQL holds no NUL (and jsonb no lone surrogate): a string that cannot be stored is refused here, alone,
  // instead of failing its whole batch inside the database. Nearly every payload's bytes rule that out at once.
  const bad = jsonBytesMayHoldBadText(payload) ? findTextProblem(json) : undefined;
  if (bad) throw new Rejection('SCHEMA_INVALID', bad);
  const result = schema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first ? first.path.join('.') : '';
    throw new Rejection('SCHEMA_INVALID', `${where || 'payload'}: ${first?.message ?? 'invalid'}`);
  }
  return result.data;
}

export function parseTelemetry(payload: Buffer, nowMs: number, maxSkewMs: number): TelemetryPayload {
  const data = parsePayload(payload, telemetrySchema);
  const limit = nowMs + maxSkewMs;
  const ahead = data.records.findIndex((r) => r.ts > limit);
  if (ahead >= 0) {
    throw new Rejection(
      'FUTURE_TIMESTAMP',
      `records.${ahead}.ts is more than ${maxSkewMs / 1000} s ahead of the receiver's clock`,
    );
  }
  return data;
}

/** Reads the seq of a payload without trusting it, to tell which message a rejection was about. */
export function peekSeq(payload: Buffer): number | undefined {
  try {
    const json = JSON.parse(payload.toString('utf8')) as { seq?: unknown };
    return typeof json.seq === 'number' && Number.isSafeInteger(json.seq) && json.seq >= 0
      ? json.seq
      : undefined;
  } catch {
    return undefined;
  }
}
