/**
 * What every database command needs: the config (read once, here at the edge), a JSON logger on
 * stderr, and an open database. Commands receive it and close it when done.
 * Command files import their implementation inside the action (`await import(…)`), so building the
 * command tree (and `--help`) loads neither the database drivers nor the structure parsers.
 */
import { loadConfig, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db, DialectName } from '../store/database.js';
import type { Listen } from '../store/listen.js';

export interface CliContext {
  config: Config;
  logger: Logger;
  db: Db;
  dialect: DialectName;
  close(): Promise<void>;
  /** LISTEN/NOTIFY on the database (worker wake-ups, training progress). */
  listen?: Listen;
}

/** Options every database command accepts; they override the environment. */
export interface DatabaseCommandOptions {
  databaseUrl?: string;
  dataDir?: string;
}

export function cliConfig(opts: DatabaseCommandOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig({
    ...env,
    ...(opts.databaseUrl !== undefined ? { DATABASE_URL: opts.databaseUrl } : {}),
    ...(opts.dataDir !== undefined ? { IONSIEVE_DATA_DIR: opts.dataDir } : {}),
  });
}

/**
 * Opens the context of a command. `settings` are environment variables a command's options set
 * (`serve --port` → PORT): they override the environment for this config only, never process.env.
 */
export async function openCliContext(opts: DatabaseCommandOptions = {}, settings: Readonly<Record<string, string>> = {}): Promise<CliContext> {
  const config = cliConfig(opts, { ...process.env, ...settings });
  // Loaded on use so that `--help` and commands without a database start fast.
  const [{ createLogger }, { databaseOptionsOf, openDatabase }] = await Promise.all([import('../logger.js'), import('../store/database.js')]);
  const logger = createLogger(config);
  const opened = await openDatabase(databaseOptionsOf(config, logger));
  logger.debug({ dialect: opened.dialect, dataDir: opened.dialect === 'pglite' ? config.dataDir : undefined }, 'database open');
  return { config, logger, db: opened.db, dialect: opened.dialect, close: opened.close, listen: opened.listen };
}

/** Runs `fn` with an open context and always closes the database. */
export async function withCliContext<T>(opts: DatabaseCommandOptions, fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openCliContext(opts);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
