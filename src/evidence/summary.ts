// The shipment's story told from the messages a verifier checked: route, distance, gaps, attestations, alerts.
import { haversineKm } from '../geo/spherical.ts';
import type { EvidenceBundle } from './bundle.ts';

export interface Fix {
  ts: number;
  lat: number;
  lon: number;
}

export interface EvidenceSummary {
  shipmentId: string;
  reference: string | null;
  deviceId: string;
  status: string;
  fixes: number;
  firstFix: string | null;
  lastFix: string | null;
  distanceKm: number;
  fromOriginKm: number | null;
  toDestinationKm: number | null;
  reachedDestination: boolean;
  gaps: { from: string; to: string; hours: number }[];
  attestations: number;
  attestingSites: string[];
  chipsAttested: number;
  chips: number;
  alerts: { id: string; type: string; severity: string; status: string }[];
}

export function summarize(
  b: EvidenceBundle,
  fixes: Fix[],
  attestations: number,
  attesting: Set<string>,
  chipsSeen: Set<string>,
): EvidenceSummary {
  const sorted = [...fixes].sort((x, y) => x.ts - y.ts);
  let distanceKm = 0;
  const gaps: { from: string; to: string; hours: number }[] = [];
  const gapMs = Math.max(3 * b.shipment.reportIntervalS * 1000, 60 * 60_000);
  for (let i = 1; i < sorted.length; i++) {
    distanceKm += haversineKm(sorted[i - 1]!, sorted[i]!);
    const dt = sorted[i]!.ts - sorted[i - 1]!.ts;
    if (dt > gapMs) {
      gaps.push({
        from: new Date(sorted[i - 1]!.ts).toISOString(),
        to: new Date(sorted[i]!.ts).toISOString(),
        hours: Math.round((dt / 3_600_000) * 10) / 10,
      });
    }
  }
  const origin = b.shipment.origin as { lat?: number; lon?: number } | undefined;
  const dest = b.shipment.destination as { lat?: number; lon?: number; radiusKm?: number } | undefined;
  const first = sorted[0];
  const last = sorted.at(-1);
  const km = (p: Fix | undefined, q: { lat?: number; lon?: number } | undefined) =>
    p && q && typeof q.lat === 'number' && typeof q.lon === 'number'
      ? Math.round(haversineKm(p, { lat: q.lat, lon: q.lon }) * 10) / 10
      : null;
  const toDestinationKm = km(last, dest);
  return {
    shipmentId: b.shipment.id,
    reference: b.shipment.reference,
    deviceId: b.shipment.deviceId,
    status: b.shipment.status,
    fixes: sorted.length,
    firstFix: first ? new Date(first.ts).toISOString() : null,
    lastFix: last ? new Date(last.ts).toISOString() : null,
    distanceKm: Math.round(distanceKm),
    fromOriginKm: km(first, origin),
    toDestinationKm,
    reachedDestination: toDestinationKm !== null && toDestinationKm <= (dest?.radiusKm ?? 25),
    gaps,
    attestations,
    attestingSites: [...attesting].sort(),
    chipsAttested: chipsSeen.size,
    chips: b.shipment.chips.length,
    alerts: b.alerts.map((a) => ({ id: a.id, type: a.type, severity: a.severity, status: a.status })),
  };
}
