/**
 * The trainer's worker: the job-queue loop (src/jobs/worker.ts) with the trainer's tasks, woken by
 * NOTIFY, plus a periodic sweep that fails models whose training job can no longer run.
 * Used by `ionsieve trainer` (its own process) and by `ionsieve start` (in-process).
 */
import type { Logger } from 'pino';
import { startWorker, type Listen, type RunningWorker, type Task } from '../src/jobs/worker.js';
import { EMBED_MATERIALS_TASK, TRAIN_MODEL_TASK, failOrphanedTrainings } from '../src/services/models.js';
import type { Db } from '../src/store/database.js';
import { createEmbedMaterialsTask } from './tasks/embed-materials.js';
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
}

export function trainerTasks(train: TrainModelTaskOptions = {}): Record<string, Task> {
  return {
    [TRAIN_MODEL_TASK]: createTrainModelTask(train),
    [EMBED_MATERIALS_TASK]: createEmbedMaterialsTask(),
  };
}

export function startTrainerWorker(opts: TrainerWorkerOptions): RunningWorker {
  const worker = startWorker({
    db: opts.db,
    logger: opts.logger,
    listen: opts.listen,
    workerId: opts.workerId,
    leaseMs: opts.leaseMs,
    pollMs: opts.pollMs,
    tasks: trainerTasks(opts.train),
  });
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
