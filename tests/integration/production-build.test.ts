// The production bundle as the image runs it: compiled JavaScript started with plain `node`, as an unprivileged user,
// from a read-only application folder, with only the data folder writable; a restart keeps the key fingerprints.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { mintToken, type Role } from '../../src/auth.ts';
import { apiAt, TEST_SECRET } from '../helpers/chipwatch.ts';
import { createTestDatabase, freePort } from '../helpers/postgres.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NOBODY = 65534;
// As root the process is started as nobody (uid 65534); otherwise the test's own user is already unprivileged.
const asRoot = process.getuid?.() === 0;
const skipReason = process.platform === 'win32' ? 'needs POSIX users and permissions' : '';

describe.skipIf(skipReason !== '')('production build', () => {
  let root: string;
  let app: string;
  let data: string;
  let env: Record<string, string>;
  let httpUrl: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'chipwatch-prod-'));
    chmodSync(root, 0o755);
    app = join(root, 'app');
    data = join(root, 'data');
    // What `npm run build` does, into the copy's own dist/ (tsc emits even when another file fails to type-check).
    const dist = join(app, 'dist');
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
        {
          cwd: ROOT,
          stdio: 'pipe',
        },
      );
    } catch (err) {
      const out = String((err as { stdout?: Buffer }).stdout ?? '');
      if (!readdirSync(dist).includes('src')) throw new Error(`tsc emitted nothing:\n${out}`);
    }
    execFileSync(process.execPath, ['scripts/build-assets.js', dist], { cwd: ROOT });
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    execFileSync('chmod', ['-R', 'a-w', app]);
    mkdirSync(data, { mode: 0o700 });
    if (asRoot) chownSync(data, NOBODY, NOBODY);
    // The API secret as a Docker secret would give it: a file, read-only.
    const secretFile = join(root, 'jwt-secret');
    writeFileSync(secretFile, `${TEST_SECRET}\n`, { mode: 0o444 });
    const port = await freePort();
    httpUrl = `http://127.0.0.1:${port}`;
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: data,
      DATABASE_URL: await createTestDatabase(inject('pgAdminUrl')),
      HTTP_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      MQTT_PORT: String(await freePort()),
      DATA_DIR: data,
      AUTH_JWT_SECRET_FILE: secretFile,
      LOG_LEVEL: 'info',
      VERIFY_WORKERS: '1',
      ZONES_RESOLUTION: '50m',
    };
  }, 180_000);

  afterAll(() => {
    if (root) {
      execFileSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  async function start(): Promise<{ proc: ChildProcess; out: () => string }> {
    const proc = spawn(process.execPath, ['--enable-source-maps', 'dist/src/main.js'], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`chipwatch exited with ${proc.exitCode}:\n${out}`);
      const ready = await fetch(`${httpUrl}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return { proc, out: () => out };
      await new Promise((r) => setTimeout(r, 200));
    }
    proc.kill('SIGKILL');
    throw new Error(`chipwatch did not become ready:\n${out}`);
  }

  /** SIGTERM; resolves with the exit code, or the signal runuser passed on and re-raised. */
  async function stop(proc: ChildProcess): Promise<number | string | null> {
    const exited = new Promise<number | string | null>((r) =>
      proc.once('exit', (code, signal) => r(code ?? signal)),
    );
    proc.kill('SIGTERM');
    return exited;
  }

  const fingerprints = async () => ({
    evidence: (
      (await (
        await fetch(`${httpUrl}/v1/evidence/key`, {
          headers: {
            authorization: `Bearer ${await mintToken(new TextEncoder().encode(TEST_SECRET), {
              sub: 'prod-test',
              role: 'compliance',
              issuer: 'chipwatch',
              ttlS: 600,
            })}`,
          },
        })
      ).json()) as { fingerprint: string }
    ).fingerprint,
    ack: ((await (await fetch(`${httpUrl}/v1/ingest/key`)).json()) as { fingerprint: string }).fingerprint,
  });

  it('runs as an unprivileged user from a read-only folder and keeps its key fingerprints across a restart', async () => {
    const first = await start();
    if (asRoot) expect(statSync(join(data, 'ack-signing-key.pem')).uid).toBe(NOBODY);
    const before = await fingerprints();
    expect(before.evidence).toMatch(/^[0-9a-f]{64}$/);
    expect(before.ack).toMatch(/^[0-9a-f]{64}$/);
    // A shipment's corridor is built on the compiled worker thread (dist/src/geo/corridor-worker.js) and stored.
    const api = apiAt(httpUrl).api;
    const key = generateDeviceKey();
    const device = await api('POST', '/v1/devices', {
      body: { id: 'trk-prod', publicKeyJwk: key.publicJwk },
    });
    expect(device.status).toBe(201);
    const shipment = await api('POST', '/v1/shipments', {
      role: 'logistics' satisfies Role,
      body: {
        id: 'shp-prod',
        deviceId: 'trk-prod',
        mode: 'road',
        origin: { lat: 52.37, lon: 4.9 },
        destination: { lat: 50.11, lon: 8.68 },
        route: {
          type: 'LineString',
          coordinates: [
            [4.9, 52.37],
            [6.96, 50.94],
            [8.68, 50.11],
          ],
        },
      },
    });
    expect(shipment.status, JSON.stringify(shipment.body)).toBe(201);
    const track = await api('GET', '/v1/shipments/shp-prod/track', { role: 'logistics' });
    expect(track.status).toBe(200);
    const corridor = track.body.features.find((f: any) => f.properties.kind === 'corridor');
    expect(corridor.geometry.type).toMatch(/Polygon/);
    expect(await stop(first.proc)).toBe(0);
    // The keys and the generated API secret live in the data folder, nowhere else.
    expect(readdirSync(data)).toEqual(
      expect.arrayContaining(['evidence-signing-key.pem', 'ack-signing-key.pem']),
    );

    const second = await start();
    expect(await fingerprints()).toEqual(before);
    expect(await stop(second.proc)).toBe(0);
  }, 300_000);
});

if (skipReason) console.warn(`production-build test skipped: ${skipReason}`);
