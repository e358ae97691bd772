/**
 * The CLI's logger: structured pino lines on stderr (or a file), so stdout stays free for a
 * command's result (`--json`). Library code never writes to the console; it gets a child of
 * this logger.
 */
import { pino, type Logger } from 'pino';

/** Log levels a user may choose. */
export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** A logger at `level` writing to stderr, or to `file` when given. */
export function createLogger(level: string, file?: string): Logger {
  const dest = file ? pino.destination({ dest: file, sync: false }) : pino.destination(2);
  return pino({ level, base: { pid: process.pid } }, dest);
}
