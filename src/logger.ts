/** Structured JSON logs (pino). The logger is created at an entry point and passed down. */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Creates a JSON logger. Logs go to stderr (fd 2) so that commands that write data to stdout
 * (`ionsieve export --out -`) stay pipeable.
 */
export function createLogger(config: { logLevel?: string; level?: string }, name = 'ionsieve'): Logger {
  const level = config.level ?? config.logLevel ?? 'info';
  return pino({ name, level, base: { name } }, pino.destination({ fd: 2, sync: true }));
}
