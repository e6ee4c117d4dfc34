// `chipwatch` command line: run all parts or one, mint API tokens, apply migrations, verify evidence bundles.
import { Command, Option } from 'commander';
import { mintToken, ROLES, type Role, resolveJwtSecret } from './auth.ts';
import { loadConfig } from './config.ts';
import { migrate } from './db/migrate.ts';
import { EXIT_CODES, type VerifyEvidenceOptions, verifyEvidenceCommand } from './evidence/command.ts';
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
  .option('--ttl <seconds>', 'lifetime in seconds (at most AUTH_TOKEN_MAX_TTL_S, default 30 days)', '86400')
  .action(async (opts: { role: Role; sub: string; ttl: string }) => {
    const config = loadConfig();
    const secret = resolveJwtSecret(config.AUTH_JWT_SECRET, config.DATA_DIR);
    const ttlS = Number(opts.ttl);
    if (!Number.isInteger(ttlS) || ttlS <= 0) throw new Error('--ttl must be a positive number of seconds');
    const maxTtlS = config.AUTH_TOKEN_MAX_TTL_S;
    process.stdout.write(
      `${await mintToken(secret, { sub: opts.sub, role: opts.role, issuer: config.AUTH_ISSUER, ttlS, maxTtlS })}\n`,
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
  .description(
    'verify an evidence bundle offline: strict JSON, digest, seal against a pinned key, signatures, audit chains, ' +
      'completeness. Exit 0 VERIFIED, 1 FAILED, 2 UNPINNED (intact, but no key pinned), 3 usage or I/O error',
  )
  .argument('<bundle>', 'the JSON file from GET /v1/shipments/{id}/evidence')
  .option('--json', 'print the full report as JSON')
  .option('--key <fingerprint>', 'pin the chipwatch sealing key by its fingerprint (GET /v1/evidence/key)')
  .addOption(
    new Option(
      '--key-file <path>',
      'pin the chipwatch sealing key from a file: its public JWK, the JSON of GET /v1/evidence/key, or a PEM',
    ).conflicts('key'),
  )
  // A mistyped option must not look like a failed bundle: usage errors get their own code (help stays 0).
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_CODES.USAGE))
  .action(async (file: string, opts: VerifyEvidenceOptions) => {
    const result = await verifyEvidenceCommand(file, opts);
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
  });

program.parseAsync().catch((err: Error) => {
  console.error(`chipwatch: ${err.message}`);
  process.exit(1);
});
