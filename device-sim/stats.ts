// Fleet totals and latency percentiles for progress lines, summaries and benchmarks.
import type { Tracker } from './tracker.ts';

/** Nearest-rank percentile (p in 0..100); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export interface FleetTotals {
  sent: number;
  acked: number;
  resent: number;
  pending: number;
}

export function fleetTotals(trackers: readonly Tracker[]): FleetTotals {
  const t: FleetTotals = { sent: 0, acked: 0, resent: 0, pending: 0 };
  for (const tr of trackers) {
    t.sent += tr.stats.sent;
    t.acked += tr.stats.acked;
    t.resent += tr.stats.resent;
    t.pending += tr.pendingCount;
  }
  return t;
}

/** Every acked message's latency across the fleet, in no particular order. */
export function fleetLatenciesMs(trackers: readonly Tracker[]): number[] {
  return trackers.flatMap((tr) => tr.stats.latenciesMs);
}
