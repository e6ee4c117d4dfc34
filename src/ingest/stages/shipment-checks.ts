// Shipment checks inside the batch's transaction: lock each device's active shipment, run the pure checks over the
// batch's accepted fixes in device time order, save the shipment's state and status, mark every fix with its
// shipment and flags. The alert events go back to the pipeline, which applies them once for the whole batch, so an
// alert exists exactly when the telemetry that caused it does.

import { shipmentContext, zoneFilters } from '../../checks/context.ts';
import { initialShipmentState, runShipmentChecks, runUnboundChecks } from '../../checks/run.ts';
import type { CheckParams, Fix } from '../../checks/types.ts';
import type { TelemetryRow } from '../../db/ingest-store.ts';
import type { PoolClient } from '../../db/pool.ts';
import { lockActiveShipments, saveShipmentRun } from '../../db/shipments.ts';
import type { SubjectEvent } from '../../domain/alerts.ts';
import type { GeoRuntime } from '../../geo/runtime.ts';

export async function shipmentChecks(
  c: PoolClient,
  geo: GeoRuntime,
  telemetry: TelemetryRow[],
  globalParams: Partial<CheckParams> = {},
): Promise<SubjectEvent[]> {
  const byDevice = new Map<string, TelemetryRow[]>();
  for (const row of telemetry) {
    const rows = byDevice.get(row.deviceId);
    if (rows) rows.push(row);
    else byDevice.set(row.deviceId, [row]);
  }
  if (byDevice.size === 0) return [];
  const shipments = await lockActiveShipments(c, [...byDevice.keys()]);
  const zones = geo.zones();
  const unbound = zoneFilters(geo.policy, null, []);
  const events: SubjectEvent[] = [];
  for (const [deviceId, rows] of byDevice) {
    const fixes = rows.map(toFix);
    const s = shipments.get(deviceId);
    if (!s) {
      for (const e of runUnboundChecks(fixes, zones, unbound.isRestricted)) {
        events.push({ ...e, subject: `device:${deviceId}`, shipmentId: null, deviceId });
      }
      continue;
    }
    const prior = { ...initialShipmentState(), ...s.checkState };
    const run = runShipmentChecks(
      prior,
      s.status,
      fixes,
      shipmentContext(s, geo.policy, zones, globalParams),
    );
    rows.forEach((row, i) => {
      row.shipmentId = s.id;
      row.flags = run.flags.get(i) ?? [];
    });
    for (const e of run.events) events.push({ ...e, subject: s.id, shipmentId: s.id, deviceId });
    const last = run.state.lastFix;
    await saveShipmentRun(c, {
      id: s.id,
      status: run.status,
      checkState: run.state,
      lastFix: last ? { ts: last.ts, lat: last.lat, lon: last.lon } : null,
      progressKm: run.progressKm ?? null,
      startedAt: run.startedAt ?? null,
      arrivedAt: run.arrivedAt ?? null,
    });
  }
  return events;
}

function toFix(r: TelemetryRow): Fix {
  const fix: Fix = { ts: r.ts, lat: r.lat, lon: r.lon };
  if (r.altM !== null) fix.altM = r.altM;
  if (r.speedKmh !== null) fix.speedKmh = r.speedKmh;
  if (r.headingDeg !== null) fix.headingDeg = r.headingDeg;
  if (r.hdop !== null) fix.hdop = r.hdop;
  if (r.satellites !== null) fix.satellites = r.satellites;
  if (r.lightLux !== null) fix.lightLux = r.lightLux;
  if (r.tamper !== null) fix.tamper = r.tamper;
  return fix;
}
