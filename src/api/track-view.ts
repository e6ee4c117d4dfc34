// A shipment's track as GeoJSON: planned route, corridor, actual track and alert points. Pure.
import type { ShipmentRecord } from '../checks/shipment.ts';
import type { AlertView } from '../domain/alerts.ts';
import { routeToGeoJSON } from '../geo/routes.ts';
import type { GpxAlertPoint } from './gpx.ts';

export interface TrackPoint {
  ts: string;
  lat: number;
  lon: number;
}

/** Where each alert happened, when its evidence names a fix. */
export function alertPoints(alerts: AlertView[]): GpxAlertPoint[] {
  return alerts.flatMap((a) => {
    const fix = (a.details.fix ?? a.details.after) as { lat?: number; lon?: number; ts?: string } | undefined;
    if (typeof fix?.lat !== 'number' || typeof fix.lon !== 'number') return [];
    return [
      {
        alertId: a.id,
        type: a.type,
        severity: a.severity,
        status: a.status,
        lat: fix.lat,
        lon: fix.lon,
        ts: fix.ts ?? a.lastEvidenceAt ?? undefined,
      },
    ];
  });
}

export function trackFeatureCollection(
  s: ShipmentRecord,
  corridor: unknown,
  track: TrackPoint[],
  alerts: GpxAlertPoint[],
) {
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        geometry: routeToGeoJSON(s.route),
        properties: { kind: 'plannedRoute', lengthKm: s.route.lengthKm },
      },
      {
        type: 'Feature',
        geometry: corridor,
        properties: { kind: 'corridor', corridorKm: s.corridorKm },
      },
      {
        type: 'Feature',
        // A LineString needs two positions; before that there is nothing to draw.
        geometry:
          track.length >= 2 ? { type: 'LineString', coordinates: track.map((p) => [p.lon, p.lat]) } : null,
        properties: { kind: 'actualTrack', times: track.map((p) => p.ts), points: track.length },
      },
      ...alerts.map((a) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [a.lon, a.lat] },
        properties: {
          kind: 'alert',
          alertId: a.alertId,
          type: a.type,
          severity: a.severity,
          status: a.status,
          ts: a.ts,
        },
      })),
    ],
  };
}
