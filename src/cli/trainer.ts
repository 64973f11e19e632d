/** `ionsieve trainer`: run a training worker (train_model, embed_materials jobs) until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { BadInputError } from '../errors.js';
import type { DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

interface TrainerCommandOptions extends DatabaseCommandOptions {
  leaseSeconds?: string;
  pollSeconds?: string;
}

export function registerTrainerCommand(program: Command): Command {
  return withDatabaseOptions(
    program
      .command('trainer')
      .description('run a worker: takes train_model, embed_materials and import_optimade jobs from the database queue')
      .option('--lease-seconds <n>', 'job lease; a job whose worker stops heartbeating is retried after it (default 30)')
      .option('--poll-seconds <n>', 'poll interval when no NOTIFY arrives (default 2)'),
  ).action(async (opts: TrainerCommandOptions) => {
    const leaseMs = seconds(opts.leaseSeconds, 'lease-seconds');
    const pollMs = seconds(opts.pollSeconds, 'poll-seconds');
    const [{ openCliContext }, { runTrainerUntilSignal }] = await Promise.all([import('./context.js'), import('../../trainer/main.js')]);
    const ctx = await openCliContext(opts);
    try {
      await runTrainerUntilSignal({
        db: ctx.db,
        logger: ctx.logger.child({ component: 'trainer' }),
        listen: ctx.listen,
        leaseMs,
        pollMs,
        nice: ctx.config.trainerNice,
        train: { isolation: ctx.config.trainerIsolation },
        optimade: { allowedHosts: ctx.config.optimadeHosts, maxSites: ctx.config.maxSites, maxTextBytes: ctx.config.maxTextBytes },
      });
    } finally {
      await ctx.close();
    }
  });
}

function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new BadInputError(`--${name} must be a positive number`);
  return Math.round(n * 1000);
}
