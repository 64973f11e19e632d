/** `ionsieve seed`: load the shipped datasets (OBELiX train split + candidate pool). Idempotent. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { SeedResult } from '../services/seed.js';
import { withCliContext, type CliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

/** The repository root, where the shipped data/ folder lives. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A relative seed dir is taken from the working directory when it holds the datasets there, else
 * from the package root, so `ionsieve seed` works from any directory with the default 'data'.
 */
export function resolveSeedDir(seedDir: string): string {
  if (isAbsolute(seedDir) || existsSync(join(seedDir, 'obelix', 'manifest.csv'))) return resolve(seedDir);
  return resolve(PACKAGE_ROOT, seedDir);
}

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
  const { installShippedModel } = await import('./train-default.js');
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
