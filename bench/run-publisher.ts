// Runs bench/publisher.ts as a separate process (its own event loop and core share, like real trackers), relays
// its progress to stderr, reports when it starts publishing and gets its last ack, and returns its JSON result.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PublisherResult } from './publisher.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PublishOptions {
  file: string;
  mqttUrl: string;
  label: string;
  connections: number;
  window: number;
  /** Called at the first publish ('start') and at the last ack ('done'). */
  onPhase?(phase: 'start' | 'done'): void;
}

export function runPublisher(o: PublishOptions): Promise<PublisherResult> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/publisher.ts',
      ...['--file', o.file, '--url', o.mqttUrl, '--label', o.label],
      ...['--connections', String(o.connections), '--window', String(o.window)],
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
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
      if (code !== 0)
        return reject(new Error(`publisher exited with ${signal ?? code}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as PublisherResult);
      } catch {
        reject(new Error(`publisher printed no result: ${out.slice(-2000)}`));
      }
    });
  });
}
