// chipwatch as a separate process (`node --import tsx src/main.ts`), for crash and shutdown tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildChipwatch {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export async function spawnChipwatch(
  env: Record<string, string>,
  httpUrl: string,
  timeoutMs = 60_000,
): Promise<ChildChipwatch> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`chipwatch exited with ${proc.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${httpUrl}/readyz`);
      if (res.status === 200) return { proc, output: () => out, exited };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`chipwatch did not become ready in ${timeoutMs} ms:\n${out}`);
}

/** chipwatch's ack key, as a tracker reads it: the public GET /v1/ingest/key. */
export async function fetchAckKey(httpUrl: string): Promise<{ kty: 'OKP'; crv: 'Ed25519'; x: string }> {
  const res = await fetch(`${httpUrl}/v1/ingest/key`);
  if (res.status !== 200) throw new Error(`GET /v1/ingest/key answered ${res.status}`);
  return ((await res.json()) as { publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string } }).publicJwk;
}
