// Real PostgreSQL servers for tests: the same embedded launcher chipwatch uses, on a free port in a temp folder.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/embedded/postgres.ts';
import { createLogger } from '../../src/log.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  /** The superuser's URL (the `postgres` database): tests create databases and roles with it. */
  url: string;
  dataDir: string;
  port: number;
  /** Stops the server (data kept) — for outage tests. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'chipwatch-pg-'));
  chmodSync(root, 0o755); // as root, the server runs as `postgres` and must pass through
  const dataDir = join(root, 'pg');
  const port = await freePort();
  const log = createLogger('silent');
  let server = await startEmbeddedPostgres({ dataDir, port, log });
  return {
    url: server.adminUrl,
    dataDir,
    port,
    stop: () => server.stop(),
    restart: async () => {
      server = await startEmbeddedPostgres({ dataDir, port, log });
    },
    destroy: async () => {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A fresh database in the shared server, for one test file. */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `cw_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(adminUrl);
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
