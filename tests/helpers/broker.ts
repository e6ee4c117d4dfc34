// Real MQTT brokers for tests: aedes in-process (chipwatch's embedded default) and Mosquitto as a child process
// with the same settings as deploy/mosquitto.conf. Under CI=true a missing Mosquitto fails instead of skipping.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker } from '../../src/embedded/broker.ts';
import { freePort } from './postgres.ts';

export interface TestBroker {
  name: 'aedes' | 'mosquitto';
  url: string;
  stop(): Promise<void>;
}

export async function startAedes(): Promise<TestBroker> {
  const b = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  return { name: 'aedes', url: b.url, stop: () => b.stop() };
}

function mosquittoBinary(): string | undefined {
  for (const candidate of ['mosquitto', '/usr/sbin/mosquitto']) {
    const r = spawnSync(candidate, ['-h'], { stdio: 'ignore' });
    if (!r.error) return candidate;
  }
  return undefined;
}

/** True when Mosquitto can run here; under CI a missing Mosquitto is an error, not a skip. */
export function mosquittoAvailable(): boolean {
  const found = mosquittoBinary() !== undefined;
  if (!found && process.env.CI === 'true') {
    throw new Error('CI=true but mosquitto is not installed: .ci/run must `apt-get install -y mosquitto`');
  }
  return found;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('mosquitto did not start listening in time');
}

export async function startMosquitto(): Promise<TestBroker> {
  const bin = mosquittoBinary();
  if (!bin) throw new Error('mosquitto not installed');
  const dir = mkdtempSync(join(tmpdir(), 'chipwatch-mosq-'));
  const port = await freePort();
  const deployConf = readFileSync(new URL('../../deploy/mosquitto.conf', import.meta.url), 'utf8');
  const conf = deployConf
    .replace(/^listener .*$/m, `listener ${port} 127.0.0.1`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`);
  writeFileSync(join(dir, 'mosquitto.conf'), conf);
  // As root, mosquitto drops to the `mosquitto` user unless told otherwise; keep it as the current user.
  const userLine = process.getuid?.() === 0 ? `user root\n` : '';
  writeFileSync(join(dir, 'mosquitto.conf'), `${userLine}${conf}`);
  const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await waitForPort(port, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r());
          child.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
