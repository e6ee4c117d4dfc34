// Attestation payload schema (DESIGN.md "Wire protocol v1"): a site's claim of where it is, which serials are
// powered there, and its round-trip times to landmarks.
import { z } from 'zod';
import { Rejection } from '../domain/errors.ts';
import { parsePayload } from './telemetry-schema.ts';

const MIN_TS_MS = 946_684_800_000;
const id = z.string().min(1).max(128);

export const attestationSchema = z.object({
  v: z.literal(1),
  siteId: id,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sentAt: z.number().int().min(MIN_TS_MS).max(8.64e15),
  location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
  // A data center lists what is powered now: tens of thousands of accelerators fit the 64 KiB cap.
  chips: z.array(z.string().min(1).max(128)).max(20_000),
  // An RTT of 0 would pin the site onto the landmark; below 10 µs is no measurement.
  landmarks: z.array(z.object({ landmarkId: id, rttMs: z.number().min(0.01).max(60_000) })).max(64),
});

export type AttestationPayload = z.infer<typeof attestationSchema>;

export function parseAttestation(payload: Buffer, nowMs: number, maxSkewMs: number): AttestationPayload {
  const data = parsePayload(payload, attestationSchema);
  if (data.sentAt > nowMs + maxSkewMs) {
    throw new Rejection(
      'FUTURE_TIMESTAMP',
      `sentAt is more than ${maxSkewMs / 1000} s ahead of the receiver's clock`,
    );
  }
  const dup = data.landmarks.map((l) => l.landmarkId).find((l, i, all) => all.indexOf(l) !== i);
  if (dup) throw new Rejection('SCHEMA_INVALID', `landmarks: ${dup} measured twice`);
  return { ...data, chips: [...new Set(data.chips)] };
}
