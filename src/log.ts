// pino logger with scopes: `logger.child({ part: 'ingest' })`.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'chipwatch' }, timestamp: pino.stdTimeFunctions.isoTime });
}
