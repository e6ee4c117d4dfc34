// Bundles for the evidence tests, built with real keys: a tracker's signed telemetry (Ed25519 or ES256), a resolved
// alert with its hash-chained audit trail, and chipwatch's sealing keys (the genuine one and a forger's).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeviceKey, generateDeviceKey } from '../../../device-sim/keys.ts';
import { buildTelemetry, signCompactJws } from '../../../device-sim/signer.ts';
import type { BundleMessage, UnsignedBundle } from '../../../src/evidence/bundle.ts';
import { auditHash, GENESIS_HASH } from '../../../src/evidence/canonical.ts';
import { loadSealKey } from '../../../src/evidence/seal.ts';

export const T0 = Date.parse('2026-11-01T00:00:00Z');
export const HOUR = 3_600_000;
export const DEVICE_KEY = generateDeviceKey();
export const SEAL_KEY = loadSealKey(undefined, mkdtempSync(join(tmpdir(), 'cw-seal-')));
export const FORGER_KEY = loadSealKey(undefined, mkdtempSync(join(tmpdir(), 'cw-seal-')));

export function chain(alertId: string, rows: { actor: string; action: string; note: string | null }[]) {
  let prevHash = GENESIS_HASH;
  return rows.map((r, i) => {
    const entry = { alertId, at: new Date(T0 + i * 60_000).toISOString(), ...r, details: { i }, prevHash };
    const hash = auditHash(entry);
    prevHash = hash;
    return { ...entry, hash };
  });
}

/** Telemetry message `seq` of trk-1, one fix at T0 + seq × `spacingMs`. */
export function telemetry(seq: number, key: DeviceKey = DEVICE_KEY, spacingMs = HOUR): BundleMessage {
  return {
    kind: 'telemetry',
    topic: 'chipwatch/v1/devices/trk-1/telemetry',
    receivedAt: new Date(T0 + seq * spacingMs + 1000).toISOString(),
    jws: signCompactJws(
      buildTelemetry(
        'trk-1',
        seq,
        [{ ts: T0 + seq * spacingMs, lat: 22.6 + seq, lon: 120.3 }],
        T0 + seq * spacingMs,
      ),
      key,
    ),
  };
}

export function bundle(opts: { seqs?: number[]; key?: DeviceKey; spacingMs?: number } = {}): UnsignedBundle {
  const key = opts.key ?? DEVICE_KEY;
  return {
    format: 'chipwatch-evidence/1',
    generatedAt: new Date(T0 + 10 * HOUR).toISOString(),
    generatedBy: 'test',
    shipment: {
      id: 'shp-1',
      reference: 'AWB 1',
      deviceId: 'trk-1',
      mode: 'sea',
      status: 'in_transit',
      origin: { lat: 22.6, lon: 120.3, radiusKm: 25 },
      destination: { lat: 51.9, lon: 4.4, radiusKm: 25 },
      chips: [],
      reportIntervalS: 3600,
      routeLengthKm: 18000,
      createdAt: new Date(T0 - 1000).toISOString(),
      startedAt: null,
      arrivedAt: null,
      installedAt: null,
    },
    sites: [],
    landmarks: [],
    keys: [
      {
        owner: 'device',
        ownerId: 'trk-1',
        kid: key.kid,
        alg: key.alg,
        publicJwk: key.publicJwk as never,
        registeredAt: new Date(T0 - 1000).toISOString(),
        revokedAt: null,
      },
    ],
    messages: (opts.seqs ?? [0, 1, 2]).map((seq) => telemetry(seq, key, opts.spacingMs)),
    alerts: [
      {
        id: '7',
        type: 'ROUTE_DEVIATION',
        severity: 'warning',
        status: 'resolved',
        shipmentId: 'shp-1',
        deviceId: 'trk-1',
        siteId: null,
        openedAt: new Date(T0).toISOString(),
        lastSeenAt: new Date(T0).toISOString(),
        count: 1,
        details: {},
        firstEvidenceAt: null,
        lastEvidenceAt: null,
        resolvedAt: new Date(T0 + 2 * 60_000).toISOString(),
        resolvedBy: 'ann',
        resolution: 'weather routing',
        audit: chain('7', [
          { actor: 'chipwatch', action: 'opened', note: null },
          { actor: 'ann', action: 'acknowledged', note: 'looking' },
          { actor: 'ann', action: 'resolved', note: 'weather routing' },
        ]),
      },
    ],
  };
}
