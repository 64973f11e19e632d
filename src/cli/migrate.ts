/** `ionsieve migrate`: apply pending migrations. */
import type { Command } from 'commander';
import { withCliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

export function registerMigrateCommand(program: Command): Command {
  return withDatabaseOptions(program.command('migrate').description('apply pending database migrations')).action(
    async (opts: DatabaseCommandOptions) => {
      await withCliContext(opts, async ({ db, logger, dialect }) => {
        const { migrateToLatest } = await import('../store/migrate.js');
        const applied = await migrateToLatest(db);
        logger.info({ dialect, applied: applied.map((r) => r.migrationName) }, `applied ${applied.length} migration(s)`);
        const { refreshDerived } = await import('./seed.js');
        await refreshDerived({ db, logger });
      });
    },
  );
}
