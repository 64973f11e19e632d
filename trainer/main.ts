/**
 * The trainer process: one worker taking train_model and embed_materials jobs until SIGINT or
 * SIGTERM (then the running job is aborted and, its lease expiring, taken by another worker).
 * Run it as `ionsieve trainer` (src/cli/trainer.ts) or directly: `tsx trainer/main.ts`.
 * Several trainers may run at once against one PostgreSQL database.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Listen } from '../src/jobs/worker.js';
import type { Db } from '../src/store/database.js';
import { lowerCpuPriority } from './priority.js';
import { startTrainerWorker, type TrainerWorkerOptions } from './worker.js';

export interface RunTrainerOptions extends Omit<TrainerWorkerOptions, 'db' | 'logger' | 'listen'> {
  db: Db;
  logger: Logger;
  listen?: Listen;
  /** CPU priority of this process (trainer/priority.ts; config IONSIEVE_TRAINER_NICE); 0 leaves it. */
  nice?: number;
}

/** Runs the worker until a termination signal; resolves once it has stopped. */
export async function runTrainerUntilSignal(opts: RunTrainerOptions): Promise<void> {
  const priority = lowerCpuPriority(opts.nice ?? 0);
  // The training child inherits this process's nice value; the embedding lane keeps this one's.
  const worker = startTrainerWorker(opts);
  opts.logger.info({ workerId: worker.workerId, priority }, 'trainer running');
  const stop = (signal: NodeJS.Signals) => {
    opts.logger.info({ signal }, 'trainer stopping');
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void worker.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await worker.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Direct run: configuration from the environment, as `ionsieve trainer`. */
export async function main(): Promise<void> {
  const { loadConfig } = await import('../src/config.js');
  const { createLogger } = await import('../src/logger.js');
  const { databaseOptionsOf, openDatabase } = await import('../src/store/database.js');
  const config = loadConfig();
  const logger = createLogger(config, 'ionsieve-trainer');
  const opened = await openDatabase(databaseOptionsOf(config, logger));
  try {
    await runTrainerUntilSignal({
      db: opened.db,
      logger,
      listen: opened.listen,
      nice: config.trainerNice,
      optimade: { allowedHosts: config.optimadeHosts, maxSites: config.maxSites, maxTextBytes: config.maxTextBytes },
    });
  } finally {
    await opened.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
