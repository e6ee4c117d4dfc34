// Mosquitto as production runs it (deploy/mosquitto.conf: no anonymous clients, the dynamic-security plugin), as a child
// process on a free loopback port, with a fresh dynsec file holding only an admin client. Under CI=true a missing
// Mosquitto or plugin is an error; elsewhere the tests using it report a skip with the reason.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionServiceUser } from '../../src/broker/dynsec.ts';
import { registerTestBroker, type TestBroker } from './broker.ts';
import { freePort } from './postgres.ts';

const PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

export interface MosquittoDynsecFound {
  ok: boolean;
  /** Why Mosquitto with dynsec cannot run here (when !ok). */
  reason: string;
  bin?: string;
  plugin?: string;
}

/** Where mosquitto and its dynamic-security plugin are, or why they cannot be used. */
export function findMosquittoDynsec(): MosquittoDynsecFound {
  const bin = ['mosquitto', '/usr/sbin/mosquitto'].find(
    (c) => !spawnSync(c, ['-h'], { stdio: 'ignore' }).error,
  );
  if (!bin) return { ok: false, reason: 'mosquitto is not installed (apt-get install -y mosquitto)' };
  const plugin = PLUGIN_PATHS.find((p) => existsSync(p));
  if (!plugin)
    return { ok: false, reason: `mosquitto_dynamic_security.so not found in ${PLUGIN_PATHS.join(', ')}` };
  return { ok: true, reason: '', bin, plugin };
}

/** Skip a suite only outside CI: under CI=true a missing Mosquitto must fail the run. */
export function skipWithoutMosquitto(found: MosquittoDynsecFound): boolean {
  return !found.ok && process.env.CI !== 'true';
}

/** One dynsec client as the plugin stores it: PBKDF2-SHA512 over the password with a random 12-byte salt. */
export function dynsecPasswordFields(password: string, iterations = 101) {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return { password: hash.toString('base64'), salt: salt.toString('base64'), iterations };
}

/** The plugin's initial file, as `mosquitto_ctrl dynsec init <file> <admin>` writes it: one admin client and role. */
export function initialDynsecConfig(adminUsername: string, adminPassword: string): unknown {
  const all = (acltype: string, topic: string) => ({ acltype, topic, allow: true });
  return {
    clients: [
      {
        username: adminUsername,
        textName: 'Dynsec admin user',
        ...dynsecPasswordFields(adminPassword),
        roles: [{ rolename: 'admin' }],
      },
    ],
    roles: [
      {
        rolename: 'admin',
        acls: [
          all('publishClientSend', '$CONTROL/dynamic-security/#'),
          all('publishClientReceive', '$CONTROL/dynamic-security/#'),
          all('subscribePattern', '$CONTROL/dynamic-security/#'),
        ],
      },
    ],
    defaultACLAccess: {
      publishClientSend: false,
      publishClientReceive: false,
      subscribe: false,
      unsubscribe: true,
    },
  };
}

export interface TestMosquitto {
  url: string;
  port: number;
  admin: { username: string; password: string };
  /** Mosquitto's own log so far (connections, refusals), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
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

/** deploy/mosquitto.conf with this machine's plugin path, a loopback port and a temporary folder. */
export function testMosquittoConf(
  deployConf: string,
  o: { port: number; dir: string; plugin: string },
): string {
  const conf = deployConf
    .replace(/^listener 1883$/m, `listener ${o.port} 127.0.0.1`)
    .replace(/^plugin .*$/m, `plugin ${o.plugin}`)
    .replace(/^plugin_opt_config_file .*$/m, `plugin_opt_config_file ${join(o.dir, 'dynamic-security.json')}`)
    .replace(/^persistence_location .*$/m, `persistence_location ${o.dir}/`);
  // As root, mosquitto drops to the `mosquitto` user unless told otherwise; keep it as the current user.
  const user = process.getuid?.() === 0 ? 'user root\n' : '';
  return `${user}log_dest stderr\nlog_type all\n${conf}`;
}

export async function startMosquittoDynsec(): Promise<TestMosquitto> {
  const found = findMosquittoDynsec();
  if (!found.ok || !found.bin || !found.plugin) throw new Error(found.reason);
  const dir = mkdtempSync(join(tmpdir(), 'chipwatch-dynsec-'));
  const port = await freePort();
  const admin = { username: 'chipwatch-admin', password: randomBytes(18).toString('base64url') };
  writeFileSync(
    join(dir, 'dynamic-security.json'),
    JSON.stringify(initialDynsecConfig(admin.username, admin.password)),
  );
  const deployConf = readFileSync(new URL('../../deploy/mosquitto.conf', import.meta.url), 'utf8');
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    testMosquittoConf(deployConf, { port, dir, plugin: found.plugin }),
  );
  const child = spawn(found.bin, ['-c', join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-200_000);
  });
  try {
    await waitForPort(port, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    admin,
    log: () => stderr,
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

/**
 * A dynsec Mosquitto ready for chipwatch: its service user created (as chipwatch's own start would) and registered for
 * startTestChipwatch, and the environment a chipwatch needs to drive the broker itself (grant and revoke trackers).
 */
export async function startMosquittoForChipwatch(
  topicPrefix = 'chipwatch/v1',
): Promise<TestBroker & { dynsec: TestMosquitto; env: Record<string, string> }> {
  const m = await startMosquittoDynsec();
  const service = { username: 'chipwatch', password: randomBytes(32).toString('base64url') };
  try {
    await provisionServiceUser({ url: m.url, ...m.admin, topicPrefix }, service);
  } catch (e) {
    await m.stop();
    throw e;
  }
  const env = {
    MQTT_URL: m.url,
    MQTT_USERNAME: service.username,
    MQTT_PASSWORD: service.password,
    MQTT_DYNSEC_ADMIN_USERNAME: m.admin.username,
    MQTT_DYNSEC_ADMIN_PASSWORD: m.admin.password,
  };
  registerTestBroker(m.url, { service, env });
  return {
    name: 'mosquitto',
    url: m.url,
    service,
    dynsec: m,
    env,
    stop: () => m.stop(),
  };
}
