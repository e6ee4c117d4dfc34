// The README's first command end to end: chipwatch on its embedded defaults (embedded PostgreSQL in DATA_DIR/pg,
// aedes), a token from `chipwatch token`, the simulator publishing through it, Ctrl-C, and the data still there
// after a restart.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/postgres.ts';
import { spawnChipwatch } from '../helpers/process.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'chipwatch-e2e-'));
chmodSync(dataDir, 0o755);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('embedded defaults', () => {
  it('runs, takes simulated telemetry, shuts down cleanly on Ctrl-C and keeps its data across restarts', {
    timeout: 180_000,
  }, async () => {
    const [http, mqttPort, pgPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      DATA_DIR: dataDir,
      HTTP_PORT: String(http),
      MQTT_PORT: String(mqttPort),
      EMBEDDED_PG_PORT: String(pgPort),
    };
    const api = `http://127.0.0.1:${http}`;
    let cw = await spawnChipwatch(env, api, 120_000);
    expect(cw.output()).toContain('embedded PostgreSQL listening');
    expect(cw.output()).toContain('embedded MQTT broker (aedes) listening');
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(true);

    const { stdout: token } = await run(
      process.execPath,
      ['bin/chipwatch.js', 'token', '--role', 'compliance'],
      {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir },
      },
    );
    expect(token.trim().split('.')).toHaveLength(3);

    // The simulator mints its own admin token from DATA_DIR's secret.
    const sim = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'device-sim/cli.ts',
        '--api',
        api,
        '--mqtt',
        `mqtt://127.0.0.1:${mqttPort}`,
        '--data-dir',
        dataDir,
        '--devices',
        '2',
        '--rate',
        '20',
        '--duration',
        '2',
        '--records',
        '3',
        '--id-prefix',
        'e2e',
      ],
      { cwd: ROOT },
    );
    expect(sim.stdout + sim.stderr).toMatch(/acked 40\b/);

    const positions = async () => {
      const res = await fetch(`${api}/v1/devices/e2e-0001/positions?limit=1000`, {
        headers: { authorization: `Bearer ${token.trim()}` },
      });
      return ((await res.json()) as { items: unknown[] }).items.length;
    };
    expect(await positions()).toBe(60);

    cw.proc.kill('SIGINT');
    expect(await cw.exited).toBe(0);
    expect(cw.output()).toContain('stopped cleanly');
    // PostgreSQL removes its pid file only on a clean shutdown.
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

    cw = await spawnChipwatch(env, api, 120_000);
    expect(await positions()).toBe(60);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').length).toBeGreaterThan(30);
    cw.proc.kill('SIGTERM');
    expect(await cw.exited).toBe(0);
  });
});
