// `chipwatch` command line: run all parts or one, mint API tokens, apply migrations, verify evidence bundles.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { mintToken, ROLES, type Role, resolveJwtSecret } from './auth.ts';
import { loadConfig } from './config.ts';
import { migrate } from './db/migrate.ts';
import { formatReport, verifyBundle } from './evidence/verify.ts';
import { run } from './main.ts';

const program = new Command('chipwatch').description('Verifies where export-controlled AI chips are.');

program
  .command('start', { isDefault: true })
  .description('run every part (embedded database and broker unless URLs are set)')
  .action(() => run());
program
  .command('ingest')
  .description('run only the ingest worker (MQTT → database)')
  .action(() => run({ CHIPWATCH_PARTS: ['ingest'] }));
program
  .command('api')
  .description('run only the HTTP API')
  .action(() => run({ CHIPWATCH_PARTS: ['api'] }));

program
  .command('token')
  .description('mint an API token signed with AUTH_JWT_SECRET or the secret in DATA_DIR')
  .addOption(new Option('--role <role>', 'role of the token').choices(ROLES).makeOptionMandatory())
  .option('--sub <subject>', 'who the token is for', 'cli')
  .option('--ttl <seconds>', 'lifetime in seconds', '86400')
  .action(async (opts: { role: Role; sub: string; ttl: string }) => {
    const config = loadConfig();
    const secret = resolveJwtSecret(config.AUTH_JWT_SECRET, config.DATA_DIR);
    const ttlS = Number(opts.ttl);
    if (!Number.isInteger(ttlS) || ttlS <= 0) throw new Error('--ttl must be a positive number of seconds');
    process.stdout.write(
      `${await mintToken(secret, { sub: opts.sub, role: opts.role, issuer: config.AUTH_ISSUER, ttlS })}\n`,
    );
  });

program
  .command('migrate')
  .description('apply database migrations to DATABASE_URL and exit')
  .action(async () => {
    const config = loadConfig();
    if (!config.DATABASE_URL)
      throw new Error('set DATABASE_URL (the embedded database migrates itself at start)');
    console.log((await migrate(config.DATABASE_URL)).join('\n') || 'up to date');
  });

program
  .command('verify-evidence')
  .description('re-verify an evidence bundle offline: signatures, audit hash chains, digest; print a summary')
  .argument('<bundle>', 'the JSON file from GET /v1/shipments/{id}/evidence')
  .option('--json', 'print the full report as JSON')
  .option('--key <fingerprint>', 'require the seal of this chipwatch key (GET /v1/evidence/key)')
  .action(async (file: string, opts: { json?: boolean; key?: string }) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      console.error(
        `chipwatch: cannot read ${file} as JSON (${(e as Error).message}); a single changed byte can do that`,
      );
      process.exit(2);
    }
    const report = verifyBundle(parsed, opts.key ? { pinnedKey: opts.key } : {});
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
    process.exitCode = report.ok ? 0 : 1;
  });

program.parseAsync().catch((err: Error) => {
  console.error(`chipwatch: ${err.message}`);
  process.exit(1);
});
