// All telemetry checks together, per fix, beside the cost of one signature verification (the pipeline's wall):
// a voyage on its lane (the common case) and a diverted one (off the corridor: the diversion look-ahead and the
// distance to the nearest restricted border run), at the default 10m and at 50m country polygons. On a shared,
// noisy machine the two are measured in alternating short rounds, and each round's ratio is taken from times
// measured back to back: the figures are the median over the rounds, with the range.
import { pathToFileURL } from 'node:url';
import { zoneFilters } from '../src/checks/context.ts';
import { defaultParams } from '../src/checks/params.ts';
import { initialShipmentState, runShipmentChecks } from '../src/checks/run.ts';
import type { Fix, ShipmentContext } from '../src/checks/types.ts';
import { indexRoute } from '../src/geo/route-index.ts';
import { buildPlannedRoute } from '../src/geo/routes.ts';
import { createGeoRuntime } from '../src/geo/runtime.ts';
import { destinationPoint, initialBearingDeg } from '../src/geo/spherical.ts';
import { alongRoute } from '../tests/helpers/geo.ts';
import { measureSyncRate } from './verify-rate.ts';

export interface ChecksFigures {
  resolution: '50m' | '10m';
  /** Medians over the rounds. */
  onLaneUsPerFix: number;
  divertedUsPerFix: number;
  verifyUs: number;
  /** Per-round ratios (all checks per fix / one verify), median and range. */
  onLaneRatio: Range;
  divertedRatio: Range;
  /** The fastest round of each over the fastest verify round: the machine at its quietest. */
  onLaneBestRatio: number;
  divertedBestRatio: number;
}

export interface Range {
  median: number;
  min: number;
  max: number;
}

const ROUNDS = 21;

function range(xs: number[]): Range {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)! };
}

/** µs per fix over whole voyages from a fresh state, repeated for at least `minMs`. */
function timePerFix(ctx: ShipmentContext, fixes: Fix[], minMs: number): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    let state = initialShipmentState();
    let status: 'planned' | 'in_transit' | 'arrived' | 'installed' | 'cancelled' = 'planned';
    for (const f of fixes) {
      const run = runShipmentChecks(state, status, [f], ctx);
      state = run.state;
      status = run.status === 'arrived' ? 'in_transit' : run.status;
    }
    n += fixes.length;
  }
  return ((performance.now() - start) * 1000) / n;
}

export async function runChecksBench(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)) {
  const origin = { lat: 22.61, lon: 120.27, radiusKm: 25 };
  const destination = { lat: 51.9, lon: 4.4, radiusKm: 30 };
  const route = buildPlannedRoute({ mode: 'sea', origin, destination });
  const voyage = alongRoute(route.legs[0]!.coordinates, 35, 60, Date.UTC(2026, 9, 1));
  const turnAt = voyage.findIndex((f) => f.lat < 18.5 && f.lon < 117);
  const turn = voyage[turnAt]!;
  const diverted = Array.from({ length: 60 }, (_, i) => {
    const p = destinationPoint(turn, initialBearingDeg(turn, { lat: 18.6, lon: 109.6 }) + 40, 35 * (i + 1));
    return { ts: turn.ts + (i + 1) * 3_600_000, lat: p.lat, lon: p.lon, speedKmh: 35 };
  });
  const out: ChecksFigures[] = [];
  for (const resolution of ['10m', '50m'] as const) {
    log(
      `checks: loading ${resolution} zones and the Kaohsiung → Rotterdam lane (${voyage.length} hourly fixes)…`,
    );
    const geo = createGeoRuntime({ resolution });
    const ctx: ShipmentContext = {
      shipmentId: 'bench',
      mode: 'sea',
      origin,
      destination,
      plannedStops: [],
      corridorKm: 50,
      reportIntervalS: 3600,
      route: indexRoute(route),
      zones: geo.zones(),
      ...zoneFilters(geo.policy, null, []),
      params: defaultParams('sea'),
    };
    const divertedFixes = [...voyage.slice(0, turnAt + 1), ...diverted].slice(-80);
    timePerFix(ctx, voyage, 500); // warm-up
    timePerFix(ctx, divertedFixes, 300);
    const lane: number[] = [];
    const div: number[] = [];
    const ver: number[] = [];
    const laneRatio: number[] = [];
    const divRatio: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const l = timePerFix(ctx, voyage, 60);
      const v = 1e6 / measureSyncRate(60);
      const d = timePerFix(ctx, divertedFixes, 60);
      lane.push(l);
      div.push(d);
      ver.push(v);
      laneRatio.push(l / v);
      divRatio.push(d / v);
    }
    const f: ChecksFigures = {
      resolution,
      onLaneUsPerFix: range(lane).median,
      divertedUsPerFix: range(div).median,
      verifyUs: range(ver).median,
      onLaneRatio: range(laneRatio),
      divertedRatio: range(divRatio),
      onLaneBestRatio: range(lane).min / range(ver).min,
      divertedBestRatio: range(div).min / range(ver).min,
    };
    out.push(f);
    log(
      `checks ${resolution}: ${f.onLaneUsPerFix.toFixed(2)} µs/fix on the lane, ${f.divertedUsPerFix.toFixed(2)} µs/fix diverted, one verify ${f.verifyUs.toFixed(1)} µs`,
    );
  }
  return { figures: out, verifyUs: range(out.map((f) => f.verifyUs)).median };
}

export function renderChecksBench(r: Awaited<ReturnType<typeof runChecksBench>>): string {
  const pct = (x: Range) => `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
  const lines = [
    `All checks per fix against one Ed25519 verify (node:crypto, one core), ${ROUNDS} alternating rounds; target: ratio under 0.1`,
  ];
  for (const f of r.figures) {
    lines.push(
      `  ${f.resolution}: on the lane ${f.onLaneUsPerFix.toFixed(2)} µs/fix (${Math.round(1e6 / f.onLaneUsPerFix).toLocaleString('en')} fixes/s), ` +
        `diverted ${f.divertedUsPerFix.toFixed(2)} µs/fix; one verify ${f.verifyUs.toFixed(1)} µs`,
      `       ratio on the lane ${pct(f.onLaneRatio)}, diverted ${pct(f.divertedRatio)}; ` +
        `fastest rounds: ${f.onLaneBestRatio.toFixed(3)} and ${f.divertedBestRatio.toFixed(3)}`,
    );
  }
  const worst = Math.max(...r.figures.flatMap((f) => [f.onLaneRatio.median, f.divertedRatio.median]));
  lines.push(
    `  ratio, worst case (median over rounds): ${worst.toFixed(3)} — ${worst < 0.1 ? 'below' : 'ABOVE'} the 0.1 target`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${renderChecksBench(await runChecksBench())}\n`);
}
