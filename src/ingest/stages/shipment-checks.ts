// The checks' I/O edge inside the ingest transaction: lock each device's active shipment, run the pure checks over
// the batch's accepted fixes, save the shipment's state and status, and write the alerts — all in the batch's
// transaction, so an alert exists exactly when the telemetry that caused it does.

import { applyAlertEvents } from '../db/alerts.ts';
import type { PoolClient } from '../db/pool.ts';
import { lockActiveShipments, saveShipmentRun } from '../db/shipments.ts';
import type { AlertChange, SubjectEvent } from '../domain/alerts.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import { shipmentContext, zoneFilters } from './context.ts';
import { initialShipmentState, runShipmentChecks, runUnboundChecks } from './run.ts';
import type { CheckParams, Fix } from './types.ts';

export interface DeviceFixes {
  deviceId: string;
  fixes: Fix[];
}

export interface StageResult {
  /** Per device: the shipment its fixes belong to (absent when unbound). */
  shipmentOf: Map<string, string>;
  /** Per device: flags per index into its `fixes`. */
  flags: Map<string, Map<number, string[]>>;
  alerts: AlertChange[];
}

export async function runCheckStage(
  c: PoolClient,
  geo: GeoRuntime,
  batch: DeviceFixes[],
  globalParams: Partial<CheckParams> = {},
): Promise<StageResult> {
  const result: StageResult = { shipmentOf: new Map(), flags: new Map(), alerts: [] };
  if (batch.length === 0) return result;
  const shipments = await lockActiveShipments(
    c,
    batch.map((b) => b.deviceId),
  );
  const zones = geo.zones();
  const unbound = zoneFilters(geo.policy, null, []);
  const events: SubjectEvent[] = [];
  for (const { deviceId, fixes } of batch) {
    const s = shipments.get(deviceId);
    if (!s) {
      for (const e of runUnboundChecks(fixes, zones, unbound.isRestricted)) {
        events.push({ ...e, subject: `device:${deviceId}`, shipmentId: null, deviceId });
      }
      continue;
    }
    result.shipmentOf.set(deviceId, s.id);
    const prior = { ...initialShipmentState(), ...s.checkState };
    const run = runShipmentChecks(
      prior,
      s.status,
      fixes,
      shipmentContext(s, geo.policy, zones, globalParams),
    );
    result.flags.set(deviceId, run.flags);
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
  result.alerts = await applyAlertEvents(c, events);
  return result;
}
