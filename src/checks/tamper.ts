// TAMPER: the tracker's tamper switch, or light inside the sealed case, anywhere but at the destination.
import type { AlertEvent } from '../domain/alerts.ts';
import { haversineKm } from '../geo/spherical.ts';
import type { Fix, ShipmentContext } from './types.ts';

export function checkTamper(fix: Fix, ctx: ShipmentContext): AlertEvent[] {
  const light = fix.lightLux !== undefined && fix.lightLux > ctx.params.lightLuxThreshold;
  if (!fix.tamper && !light) return [];
  if (haversineKm(fix, ctx.destination) <= ctx.destination.radiusKm) return [];
  return [
    {
      type: 'TAMPER',
      action: 'raise',
      at: fix.ts,
      details: {
        reason: fix.tamper ? 'tamper switch' : `light ${fix.lightLux} lux inside the sealed case`,
        lightLux: fix.lightLux ?? null,
        fix: { ts: new Date(fix.ts).toISOString(), lat: fix.lat, lon: fix.lon },
      },
    },
  ];
}
