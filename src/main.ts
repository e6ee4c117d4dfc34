// `npm start`: runs chipwatch with the configuration from the environment until SIGINT or SIGTERM.
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startChipwatch } from './server.ts';

export async function run(overrides: Partial<Config> = {}): Promise<void> {
  let config: Config;
  try {
    config = { ...loadConfig(), ...overrides };
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(
        `chipwatch: ${e.message}\nFix the variable(s) above and start again; see README.md "Configuration".`,
      );
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL);
  let running: Awaited<ReturnType<typeof startChipwatch>>;
  try {
    running = await startChipwatch(config, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'chipwatch could not start');
    process.exit(1);
  }
  log.info('chipwatch running; Ctrl-C to stop');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: committing the in-flight batch');
    await running.stop();
    log.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
