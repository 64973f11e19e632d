/**
 * The trainer's worker: three job-queue loops (src/jobs/worker.ts) woken by NOTIFY — one lane for
 * train_model, one for embed_materials, so materials added while a model trains are embedded
 * under the active model at once instead of waiting behind the training job, and one for
 * import_optimade (network-bound; an import does not hold up either) — plus a periodic sweep that
 * fails models whose training job can no longer run.
 * Used by `ionsieve trainer` (its own process) and by `ionsieve start` (in-process).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { startWorker, type Listen, type RunningWorker, type Task } from '../src/jobs/worker.js';
import { DEFAULT_OPTIMADE_HOSTS } from '../src/config.js';
import { failOrphanedTrainings } from '../src/services/model-training.js';
import { EMBED_MATERIALS_TASK, TRAIN_MODEL_TASK } from '../src/services/models.js';
import { IMPORT_OPTIMADE_TASK } from '../src/services/optimade-import.js';
import type { Db } from '../src/store/database.js';
import { createEmbedMaterialsTask } from './tasks/embed-materials.js';
import { createImportOptimadeTask, type ImportOptimadeTaskOptions } from './tasks/import-optimade.js';
import { createTrainModelTask, type TrainModelTaskOptions } from './tasks/train-model.js';

export interface TrainerWorkerOptions {
  db: Db;
  logger: Logger;
  listen?: Listen;
  workerId?: string;
  leaseMs?: number;
  pollMs?: number;
  /** How often to look for orphaned trainings (default 60 s). */
  sweepMs?: number;
  train?: TrainModelTaskOptions;
  /** OPTIMADE imports: the hosts they may reach (config.optimadeHosts) and the structure limits. */
  optimade?: Partial<ImportOptimadeTaskOptions>;
}

export function trainerTasks(train: TrainModelTaskOptions = {}, optimade: Partial<ImportOptimadeTaskOptions> = {}): Record<string, Task> {
  return {
    [TRAIN_MODEL_TASK]: createTrainModelTask(train),
    [EMBED_MATERIALS_TASK]: createEmbedMaterialsTask(),
    [IMPORT_OPTIMADE_TASK]: createImportOptimadeTask({
      allowedHosts: optimade.allowedHosts ?? DEFAULT_OPTIMADE_HOSTS,
      maxSites: optimade.maxSites ?? 2000,
      maxTextBytes: optimade.maxTextBytes ?? 5 * 1024 * 1024,
    }),
  };
}

export function startTrainerWorker(opts: TrainerWorkerOptions): RunningWorker {
  const tasks = trainerTasks(opts.train, opts.optimade);
  // One worker id for both lanes: it names this process's worker in job locks and logs (a lock is
  // per job, so two loops under one id never contend for the same row).
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const lane = (kind: string) =>
    startWorker({
      db: opts.db,
      logger: opts.logger,
      listen: opts.listen,
      workerId,
      leaseMs: opts.leaseMs,
      pollMs: opts.pollMs,
      tasks: { [kind]: tasks[kind]! },
    });
  const training = lane(TRAIN_MODEL_TASK);
  const embedding = lane(EMBED_MATERIALS_TASK);
  const importing = lane(IMPORT_OPTIMADE_TASK);
  const worker = {
    workerId: training.workerId,
    done: Promise.all([training.done, embedding.done, importing.done]).then(() => {}),
    stop: async () => {
      await Promise.all([training.stop(), embedding.stop(), importing.stop()]);
    },
  };
  const sweep = () =>
    failOrphanedTrainings(opts.db).then(
      (ids) => {
        if (ids.length > 0) opts.logger.warn({ modelIds: ids }, 'models failed: their training job can no longer run');
      },
      (err: unknown) => opts.logger.warn({ err }, 'orphaned-training sweep failed'),
    );
  void sweep();
  const timer = setInterval(sweep, opts.sweepMs ?? 60_000);
  timer.unref();
  return {
    workerId: worker.workerId,
    done: worker.done.finally(() => clearInterval(timer)),
    async stop() {
      clearInterval(timer);
      await worker.stop();
    },
  };
}
