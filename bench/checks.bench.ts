// All telemetry checks together, per fix, beside the cost of one signature verification (the pipeline's wall):
// a voyage on its lane (the common case) and a diverted one (off the corridor: the diversion look-ahead and the
// distance to the nearest restricted border run), at the default 10m and at 50m country polygons.
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
import { measureVerifyRates } from './verify-rate.ts';

export interface ChecksFigures {
  resolution: '50m' | '10m';
  onLaneUsPerFix: number;
  divertedUsPerFix: number;
}

function timePerFix(ctx: ShipmentContext, fixes: Fix[], minMs = 1500): number {
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
    const onLaneUsPerFix = timePerFix(ctx, voyage);
    const divertedUsPerFix = timePerFix(ctx, [...voyage.slice(0, turnAt + 1), ...diverted].slice(-80));
    out.push({ resolution, onLaneUsPerFix, divertedUsPerFix });
    log(
      `checks ${resolution}: ${onLaneUsPerFix.toFixed(2)} µs/fix on the lane, ${divertedUsPerFix.toFixed(2)} µs/fix diverted`,
    );
  }
  log('checks: measuring one Ed25519 verification for comparison…');
  const verify = await measureVerifyRates(1000);
  return { figures: out, verifyUs: 1e6 / verify.syncPerS };
}

export function renderChecksBench(r: Awaited<ReturnType<typeof runChecksBench>>): string {
  const lines = [
    `All checks per fix (target: under a tenth of one Ed25519 verify = ${(r.verifyUs / 10).toFixed(1)} µs)`,
  ];
  for (const f of r.figures) {
    lines.push(
      `  ${f.resolution}: on the lane ${f.onLaneUsPerFix.toFixed(2)} µs/fix (${((100 * f.onLaneUsPerFix) / r.verifyUs).toFixed(1)} % of a verify, ` +
        `${Math.round(1e6 / f.onLaneUsPerFix).toLocaleString('en')} fixes/s); diverted ${f.divertedUsPerFix.toFixed(2)} µs/fix ` +
        `(${((100 * f.divertedUsPerFix) / r.verifyUs).toFixed(1)} %)`,
    );
  }
  lines.push(`  one Ed25519 verify (node:crypto, one core): ${r.verifyUs.toFixed(1)} µs`);
  const worst = Math.max(...r.figures.flatMap((f) => [f.onLaneUsPerFix, f.divertedUsPerFix]));
  const ratio = worst / r.verifyUs;
  lines.push(
    `  ratio, worst case (all checks per fix / one verify): ${ratio.toFixed(3)} — ${ratio < 0.1 ? 'below' : 'ABOVE'} the 0.1 target`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${renderChecksBench(await runChecksBench())}\n`);
}
