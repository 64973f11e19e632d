import { Option, type Command } from 'commander';

/** Adds --database-url and --data-dir (they override DATABASE_URL and IONSIEVE_DATA_DIR). */
export function withDatabaseOptions(command: Command): Command {
  return command
    .addOption(new Option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL; unset = embedded PGlite)'))
    .addOption(new Option('--data-dir <dir>', 'PGlite data directory (default: $IONSIEVE_DATA_DIR or .ionsieve/pgdata)'));
}
