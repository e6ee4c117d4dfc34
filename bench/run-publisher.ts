// Runs the simulator's load mode (`device-sim/cli.ts --load --load-file F --json`) as a separate process (its own
// event loop and core share, like real trackers), relays its progress to stderr, reports when it starts publishing
// and gets its last ack, and returns its JSON result. With `openEdge` it runs bench/open-edge-publisher.ts instead: the
// same load code as trackers were before issue 12 (shared anonymous connections, unsigned acks taken unchecked).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PublisherResult } from './publisher.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PublishOptions {
  file: string;
  mqttUrl: string;
  label: string;
  connections: number;
  window: number;
  /** A public JWK file: the key the consumer signs its acks with (unused with openEdge). */
  ackKeyFile: string;
  /** The devices' MQTT passwords ({id: password}): each device connects on its own, as a tracker does (unused with openEdge). */
  credentialsFile: string;
  /** Bench only: against a chipwatch started with `benchmarkOnly.openEdge`. */
  openEdge?: boolean;
  /** With openEdge: one anonymous connection per device instead of `connections` shared ones. */
  openPerDevice?: boolean;
  /** Messages per second, all devices together; unset: as fast as acks return. */
  ratePerS?: number;
  /** Called at the first publish ('start') and at the last ack ('done'). */
  onPhase?(phase: 'start' | 'done'): void;
}

export function runPublisher(o: PublishOptions): Promise<PublisherResult> {
  if (o.openEdge && o.ratePerS !== undefined)
    throw new Error('the open-edge publisher runs as fast as acks return');
  const args = o.openEdge
    ? [
        'bench/open-edge-publisher.ts',
        ...[o.file, o.mqttUrl, o.openPerDevice ? 'per-device' : String(o.connections), String(o.window)],
      ]
    : [
        'device-sim/cli.ts',
        ...['--load', '--load-file', o.file, '--mqtt', o.mqttUrl, '--json'],
        ...['--connections', String(o.connections), '--window', String(o.window)],
        ...['--ack-key-file', o.ackKeyFile, '--credentials-file', o.credentialsFile],
        ...(o.ratePerS === undefined ? [] : ['--rate', String(o.ratePerS)]),
      ];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Progress lines name the scenario being measured rather than the mode.
  createInterface({ input: child.stderr! }).on('line', (line) =>
    process.stderr.write(`${line.replace('[load]', `[${o.label}]`)}\n`),
  );
  child.on('message', (m) => {
    if (m === 'start' || m === 'done') o.onPhase?.(m);
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      // Exit code 1 with a result means "some messages stayed unacked": the result says how many, the caller judges.
      try {
        resolve(JSON.parse(last) as PublisherResult);
      } catch {
        reject(
          new Error(`publisher exited with ${signal ?? code} and printed no result: ${out.slice(-2000)}`),
        );
      }
    });
  });
}
