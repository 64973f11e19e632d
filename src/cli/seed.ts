/** `ionsieve seed`: load the shipped datasets (OBELiX train split + candidate pool). Idempotent. */
import type { Command } from 'commander';
import { resolveSeedDir } from './seed-dir.js';
import type { SeedResult } from '../services/seed.js';
import { withCliContext, type CliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

export { resolveSeedDir } from './seed-dir.js';

/** Brings derived columns (space group, …) of rows written by an older ionsieve up to date; logs how many. */
export async function refreshDerived(ctx: Pick<CliContext, 'db' | 'logger'>): Promise<void> {
  const { refreshDerivedFacts } = await import('../services/derived.js');
  const updated = await refreshDerivedFacts(ctx.db);
  if (updated > 0) ctx.logger.info({ updated }, 'derived material facts brought up to date');
}

/** Migrates, seeds and logs the outcome (shared with `start`). */
export async function runSeed(ctx: CliContext, requestedSeedDir: string): Promise<SeedResult> {
  const seedDir = resolveSeedDir(requestedSeedDir);
  const [{ seed }, { migrateToLatest }] = await Promise.all([import('../services/seed.js'), import('../store/migrate.js')]);
  await migrateToLatest(ctx.db);
  await refreshDerived(ctx);
  const started = performance.now();
  const result = await seed(ctx.db, {
    dataDir: seedDir,
    maxSites: ctx.config.maxSites,
    maxTextBytes: ctx.config.maxTextBytes,
    onProgress: (p) => ctx.logger.debug(p, 'seeding'),
  });
  for (const failure of result.failed) ctx.logger.warn(failure, 'seed row skipped');
  ctx.logger.info({ ...result, seedDir, failed: result.failed.length, seconds: (performance.now() - started) / 1000 }, 'seed done');
  // TF.js loads only when a model is actually installed.
  const { installShippedModel } = await import('../services/default-model.js');
  await installShippedModel(ctx, seedDir);
  return result;
}

export function registerSeedCommand(program: Command): Command {
  return withDatabaseOptions(
    program
      .command('seed')
      .description('load OBELiX (labelled) and the open Li candidate pool from the data folder; safe to re-run')
      .option('--seed-dir <dir>', 'folder holding obelix/ and candidates/ (default: $IONSIEVE_SEED_DIR or data)'),
  ).action(async (opts: DatabaseCommandOptions & { seedDir?: string }) => {
    await withCliContext(opts, async (ctx) => {
      const { withStartupLock } = await import('../store/startup-lock.js');
      await withStartupLock(ctx.config.sessionDatabaseUrl, () => runSeed(ctx, opts.seedDir ?? ctx.config.seedDir));
    });
  });
}
