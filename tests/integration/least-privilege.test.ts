// chipwatch on a user's own PostgreSQL under a role with no special rights: LOGIN, and the owner of one database.
// It migrates (no superuser-only setting read, no extension it may not create) and runs. The server offers a
// stand-in `timescaledb` extension that only a superuser may create, as a server with the TimescaleDB package does.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { ensureTimescale, migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { startAedes, type TestBroker } from '../helpers/broker.ts';
import { startTestChipwatch, type TestChipwatch } from '../helpers/chipwatch.ts';

const name = `cw_lp_${randomBytes(5).toString('hex')}`;
const password = randomBytes(18).toString('base64url');
let url: string;
let extensionRoot: string;

async function query<T extends pg.QueryResultRow = any>(
  connection: string,
  text: string,
  values?: unknown[],
) {
  const c = new pg.Client({ connectionString: connection });
  await c.connect();
  try {
    return await c.query<T>(text, values);
  } finally {
    await c.end();
  }
}

/** A control file PostgreSQL lists in pg_available_extensions; creating it needs a superuser. */
function standInTimescale(): string {
  const root = mkdtempSync(join(tmpdir(), 'chipwatch-ext-'));
  mkdirSync(join(root, 'extension'));
  writeFileSync(
    join(root, 'extension', 'timescaledb.control'),
    "comment = 'stand-in'\ndefault_version = '0.0.1'\nrelocatable = false\nsuperuser = true\n",
  );
  writeFileSync(join(root, 'extension', 'timescaledb--0.0.1.sql'), 'SELECT 1;\n');
  // As root, the server runs as `postgres`, which must read these.
  for (const p of [root, join(root, 'extension')]) chmodSync(p, 0o755);
  return root;
}

beforeAll(async () => {
  const admin = inject('pgAdminUrl');
  extensionRoot = standInTimescale();
  await query(admin, `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
  await query(admin, `CREATE DATABASE ${name} OWNER ${name}`);
  await query(admin, `ALTER DATABASE ${name} SET extension_control_path = '${extensionRoot}:$system'`);
  const u = new URL(admin);
  u.username = name;
  u.password = password;
  u.pathname = `/${name}`;
  url = u.toString();
});
afterAll(() => rmSync(extensionRoot, { recursive: true, force: true }));

describe('a role that owns its database and nothing more', () => {
  it('has no special rights, and may not read superuser-only settings', async () => {
    const me = await query(
      url,
      `SELECT rolsuper, rolcreaterole, rolcreatedb,
              pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_settings
         FROM pg_roles WHERE rolname = current_user`,
    );
    expect(me.rows[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      read_settings: false,
    });
    await expect(query(url, 'SHOW shared_preload_libraries')).rejects.toMatchObject({ code: '42501' });
  });

  it('sees TimescaleDB offered but may not create it, and falls back to plain tables', async () => {
    const offered = await query(url, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
    expect(offered.rowCount).toBe(1);
    expect(await ensureTimescale(url)).toBe('not-created');
  });

  it('migrates through the normal entry point, and a row goes in and comes out', async () => {
    const applied = await migrate(url, createLogger('silent'));
    expect(applied.length).toBeGreaterThan(5);
    expect(applied[0]).toBe('0001_init');
    await query(url, "INSERT INTO devices (id, created_by) VALUES ('trk-lp', 'least-privilege')");
    const rows = await query(url, 'SELECT id, created_by FROM devices');
    expect(rows.rows).toEqual([{ id: 'trk-lp', created_by: 'least-privilege' }]);
    const owners = await query(url, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'");
    expect(owners.rows).toEqual([{ tableowner: name }]);
    const telemetry = await query(url, "SELECT relkind FROM pg_class WHERE oid = 'telemetry'::regclass");
    expect(telemetry.rows).toEqual([{ relkind: 'r' }]);
    expect((await query(url, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).rowCount).toBe(0);
    expect(await migrate(url)).toEqual([]);
  });

  describe('the whole process under that role', () => {
    let broker: TestBroker;
    let cw: TestChipwatch;
    beforeAll(async () => {
      broker = await startAedes();
      cw = await startTestChipwatch({ DATABASE_URL: url, MQTT_URL: broker.url });
    });
    afterAll(async () => {
      await cw?.stop();
      await broker?.stop();
    });

    it('is ready and registers a device', async () => {
      expect((await cw.api('GET', '/readyz', { role: null })).status).toBe(200);
      const created = await cw.api('POST', '/v1/devices', {
        body: { id: 'trk-lp-api', publicKeyJwk: generateDeviceKey().publicJwk },
      });
      expect(created.status).toBe(201);
      expect((await cw.api('GET', '/v1/devices/trk-lp-api')).status).toBe(200);
    });
  });
});
