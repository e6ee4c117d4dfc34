// SIGNAL_LOST is a timer, not a check on arrival: a silent tracker sends nothing to check. Every tick, in-transit
// shipments silent for 3 report intervals (per-shipment `gapIntervals`) get the alert; the next fix resolves it.
// Several processes may run the timer: rows are claimed with FOR UPDATE SKIP LOCKED.

import { SITE_PARAM_DEFAULTS } from '../checks/site-params.ts';
import { isTransientDbError, type Pool, withTransaction } from '../db/pool.ts';
import { lockSilentShipments } from '../db/shipments.ts';
import { lockSilentSites } from '../db/sites.ts';
import type { Logger } from '../log.ts';
import { applyAlertEvents } from './apply.ts';

export async function sweepSilentShipments(pool: Pool, nowMs = Date.now(), intervals = 3): Promise<number> {
  return withTransaction(pool, async (c) => {
    const silent = await lockSilentShipments(c, intervals, nowMs);
    const events = silent.map((s) => {
      const lastMs = Date.parse(s.lastFix!.ts);
      return {
        type: 'SIGNAL_LOST' as const,
        action: 'raise' as const,
        at: nowMs,
        subject: s.id,
        shipmentId: s.id,
        deviceId: s.deviceId,
        details: {
          lastFix: s.lastFix,
          silentMinutes: Math.round((nowMs - lastMs) / 60_000),
          reportIntervalS: s.reportIntervalS,
          intervals: s.params.gapIntervals ?? intervals,
        },
      };
    });
    await applyAlertEvents(c, events);
    return events.length;
  });
}

/**
 * CHIP_MISSING for sites that stopped attesting: a silent site no longer proves where its chips are. The next
 * attestation resolves it (src/ingest/attestations.ts).
 */
export async function sweepSilentSites(pool: Pool, nowMs = Date.now()): Promise<number> {
  return withTransaction(pool, async (c) => {
    const silent = await lockSilentSites(c, nowMs, SITE_PARAM_DEFAULTS.siteSilentAfterS);
    const events = silent.map((s) => ({
      type: 'CHIP_MISSING' as const,
      action: 'raise' as const,
      at: nowMs,
      subject: `site:${s.id}:silent`,
      shipmentId: null,
      deviceId: null,
      siteId: s.id,
      details: {
        reason: 'the site stopped attesting',
        lastAttestedAt: new Date(s.lastAttestedAt).toISOString(),
        silentMinutes: Math.round((nowMs - s.lastAttestedAt) / 60_000),
        afterS: s.silentAfterS,
      },
    }));
    await applyAlertEvents(c, events);
    return events.length;
  });
}

export function startSignalLostTimer(pool: Pool, log: Logger, everyMs: number): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const n = await sweepSilentShipments(pool);
      if (n > 0) log.info({ shipments: n }, 'SIGNAL_LOST raised');
      const sites = await sweepSilentSites(pool);
      if (sites > 0) log.info({ sites }, 'CHIP_MISSING raised for silent sites');
    } catch (err) {
      if (!isTransientDbError(err)) log.error({ err }, 'signal-lost sweep failed');
    } finally {
      running = false;
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
