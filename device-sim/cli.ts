// `npm run sim`: three modes. `--scenario NAME|mixed` plays named scenarios on a simulated clock and judges the alerts
// chipwatch raises; `--load` publishes pre-signed messages and measures rate and ack latency; without either it
// registers trackers, publishes signed telemetry along a line at a rate, and reports what was acked.

import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { runLoadCommand } from './load-cli.ts';
import { intIn, latLon, nonNegative, type Opts, positiveNumber } from './options.ts';
import { runRateCommand } from './rate-cli.ts';
import { runScenarioCommand } from './scenario-cli.ts';

const program = new Command('device-sim')
  .description(
    'Simulated trackers: sign telemetry, publish it over MQTT, wait for chipwatch to ack every message.',
  )
  .option('--api <url>', 'chipwatch HTTP API', 'http://127.0.0.1:8080')
  .option('--mqtt <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--token <jwt>', 'admin API token (default: CHIPWATCH_TOKEN, else minted from DATA_DIR)')
  .option(
    '--data-dir <dir>',
    'chipwatch data folder holding the generated JWT secret',
    process.env.DATA_DIR ?? './data',
  )
  .option(
    '--scenario <name>',
    'play a named scenario (device-sim/scenarios/NAME.json), or mixed: all of them',
  )
  .option('--speedup <x>', 'simulated seconds per real second (scenarios)', positiveNumber('--speedup'), 3600)
  .option('--seed <n>', 'seed of the GPS noise and RTT jitter (scenarios)', intIn('--seed', 0, 2 ** 31), 1)
  .option(
    '--settle <s>',
    'seconds to wait for timer-driven alerts after the last ack',
    positiveNumber('--settle'),
    20,
  )
  .option('--json', 'print the result as JSON on stdout (scenarios, load)')
  .option(
    '--load',
    'load mode: pre-signed messages at --rate (or as fast as acks return), latency percentiles',
  )
  .option(
    '--load-file <file>',
    'load mode: publish these pre-signed JSON lines instead of registering and signing',
  )
  .option(
    '--credentials-file <file>',
    "load mode with --load-file: the devices' MQTT passwords as a JSON object {id: password}; each device connects with its own",
  )
  .option(
    '--ack-key-file <file>',
    'load mode: the ack key to verify acks with (a public JWK file); default: GET /v1/ingest/key from --api',
  )
  .option(
    '--messages <n>',
    'load mode: messages in total (default rate × duration)',
    intIn('--messages', 1, 10_000_000),
  )
  .option('--window <n>', 'load mode: most unacked messages in flight', intIn('--window', 1, 1_000_000), 2000)
  .option('--connections <n>', 'load mode: MQTT connections', intIn('--connections', 1, 64), 4)
  .option('--devices <n>', 'simulated trackers (scenarios: instances)', intIn('--devices', 1, 100_000))
  .option(
    '--rate <r>',
    'messages per second, all trackers together (load: unset = as fast as acks return)',
    positiveNumber('--rate'),
  )
  .option('--duration <s>', 'seconds to publish', positiveNumber('--duration'), 30)
  .option('--records <k>', 'fixes per message', intIn('--records', 1, 500), 1)
  .option('--from <lat,lon>', 'start of the track', latLon, { lat: 22.61, lon: 120.27 })
  .option('--to <lat,lon>', 'end of the track', latLon, { lat: 51.9, lon: 4.4 })
  .option('--speed <kmh>', 'speed along the track, km/h', nonNegative, 30)
  .addOption(new Option('--alg <alg>', 'signing algorithm').choices(['EdDSA', 'ES256']).default('EdDSA'))
  .option('--prefix <topic>', 'MQTT topic prefix', 'chipwatch/v1')
  .option(
    '--id-prefix <id>',
    'device ids are <id-prefix>-0001, -0002, …',
    `sim-${randomBytes(2).toString('hex')}`,
  );

async function main(o: Opts): Promise<number> {
  if (o.load || o.loadFile) return runLoadCommand(o);
  if (o.scenario) return runScenarioCommand(o);
  return runRateCommand(o);
}

const opts = program.parse().opts<Opts>();
if (opts.scenario && (opts.load || opts.loadFile))
  program.error('--scenario and --load are separate modes: pick one');
main(opts).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`device-sim: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
