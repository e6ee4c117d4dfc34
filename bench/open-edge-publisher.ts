// The publisher of the bench's open-edge scenario (bench/ingest.bench.ts), run as a separate process by
// bench/run-publisher.ts: the simulator's load code (device-sim/load.ts) as trackers were before issue 12 — a few
// shared anonymous connections (CONNECTIONS a number) or one anonymous connection per device (CONNECTIONS
// `per-device`, the fleet's shape without authentication), acks taken as plain JSON without any check. Only against a
// chipwatch started with startChipwatch's `benchmarkOnly.openEdge`; a normal chipwatch refuses its connections.
// `tsx bench/open-edge-publisher.ts FILE MQTT_URL CONNECTIONS WINDOW`; the JSON result on stdout, like `--load --json`.

import { publishSigned, UNSIGNED_ACKS_FOR_BENCHMARK } from '../device-sim/load.ts';
import { readLines } from '../device-sim/load-cli.ts';

const [file, mqttUrl, connections, window] = process.argv.slice(2);
if (!file || !mqttUrl || !connections || !window)
  throw new Error('usage: tsx bench/open-edge-publisher.ts FILE MQTT_URL CONNECTIONS WINDOW');
const result = await publishSigned(readLines(file), {
  ackKey: UNSIGNED_ACKS_FOR_BENCHMARK,
  mqttUrl,
  connections: connections === 'per-device' ? 0 : Number(connections),
  anonymousPerDevice: connections === 'per-device',
  window: Number(window),
  say: (line) => process.stderr.write(`  [load] ${line}\n`),
  onPhase: (phase) => process.send?.(phase),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.unacked > 0 ? 1 : 0);
