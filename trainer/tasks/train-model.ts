/**
 * The `train_model` task: trains a QUEUED model on the labels as they were when training started,
 * reports each epoch (model.progress, training_curve, NOTIFY ionsieve_training), evaluates the
 * configuration on held-out folds unless the job says NONE (each fold and epoch reported), embeds
 * every structure material and publishes it (services/model-training.ts completeTraining: the embeddings
 * staged in short batches, then one short transaction makes the whole model visible at once). Fitting, evaluation and embedding run in a child process
 * (computation-client.ts); this task keeps the database.
 *
 * Failure handling:
 * - fewer than 2 FAST or 2 POOR labelled structures, or a NaN/∞ loss (deterministic for a seed,
 *   so a retry would diverge again): the model is FAILED and the job is not retried;
 * - the job is cancelled (cancelTraining): fit stops at its next step; nothing is written;
 * - the worker dies or stops: nothing was committed; the job's lease expires and another worker
 *   starts again from the recorded label snapshot;
 * - anything else: retried with backoff; the model waits QUEUED with the error, FAILED when the
 *   attempts are spent.
 */
import { BadInputError, TrainingDivergedError } from '../../src/errors.js';
import type { Task } from '../../src/jobs/worker.js';
import { isRetryable } from '../../src/jobs/worker.js';
import { embedAllMaterialsWith } from '../../src/services/embeddings.js';
import { beginTraining, completeTraining, failTraining, recordProgress } from '../../src/services/model-training.js';
import type { ModelProgress, TrainModelPayload } from '../../src/services/models.js';
import type { FitOptions } from '../../src/training/train.js';
import type { ComputationEvent } from '../computation.js';
import { startComputation, type TrainerIsolation } from '../computation-client.js';

export interface TrainModelTaskOptions {
  /** Early-stopping validation for fit (default: fit's 10 % held-out crystals). */
  validation?: FitOptions['validation'];
  backend?: FitOptions['backend'];
  /**
   * Where fitting, evaluation and embedding run: 'process' (default: a child process, so serving
   * in this process never waits for them) or 'inline' (this thread).
   */
  isolation?: TrainerIsolation;
  /** nice value of the training child process (config IONSIEVE_TRAINER_NICE; 0 leaves it). */
  nice?: number;
  /**
   * Called after each epoch's progress is written, with the job's signal. An observer for embedders
   * and tests: a test holds the job here to stop its worker at a known point, however fast the fit.
   */
  afterEpochRecorded?: (epoch: number, signal: AbortSignal) => Promise<void> | void;
  /** Longest silence between progress events (default 5 s): the last progress is re-sent with its ETA advanced. */
  keepaliveMs?: number;
}

export function createTrainModelTask(options: TrainModelTaskOptions = {}): Task<TrainModelPayload> {
  return async (job, { db, logger, workerId, signal }) => {
    const { modelId, evaluation = 'NONE' } = job.payload;
    const start = await beginTraining(db, modelId);
    if (!start) {
      logger.info({ modelId }, 'model is no longer waiting for training; nothing to do');
      return { modelId, skipped: true };
    }
    const { hyperparameters: h, examples } = start;
    // Progress and failures are written only while this worker still holds the job.
    const owner = { jobId: job.id, workerId };
    let computation: ReturnType<typeof startComputation> | null = null;
    let keepalive: NodeJS.Timeout | undefined;
    try {
      const fast = examples.filter((e) => e.label === 1).length;
      const poor = examples.length - fast;
      if (fast < 2 || poor < 2) {
        throw new BadInputError(
          `training needs at least 2 FAST and 2 POOR labelled materials with a structure; found ${fast} FAST and ${poor} POOR`,
          { fast, poor },
        );
      }
      logger.info({ modelId, fast, poor, attempt: job.attempts, evaluation }, 'training started');

      // Events are written in arrival order, one at a time; the task waits for the last before it goes on.
      let written: Promise<void> = Promise.resolve();
      let lastProgress: ModelProgress = { phase: 'TRAINING', epoch: 0, maxEpochs: h.maxEpochs, trainLoss: null, validationLoss: null, etaSeconds: null };
      const jobStarted = Date.now();
      let lastSent = Date.now();
      const write = (update: ModelProgress, event?: ComputationEvent) => {
        const progress = { ...update, elapsedSeconds: Math.round((Date.now() - jobStarted) / 1000) };
        lastProgress = progress;
        lastSent = Date.now();
        written = written.then(async () => {
          await recordProgress(db, modelId, progress, event?.curvePoint, owner);
          if (event?.curvePoint) await options.afterEpochRecorded?.(event.curvePoint.epoch, signal);
        });
        written.catch(() => {});
      };
      // An epoch can outlast the promise of an event every few seconds (a fold's graphs, a loaded machine).
      const keepaliveMs = options.keepaliveMs ?? 5_000;
      keepalive = setInterval(() => {
        const silent = Date.now() - lastSent;
        if (silent < keepaliveMs) return;
        const eta = lastProgress.etaSeconds === null ? null : Math.max(0, Math.round(lastProgress.etaSeconds - silent / 1000));
        write({ ...lastProgress, etaSeconds: eta });
      }, Math.max(100, Math.floor(keepaliveMs / 2)));
      keepalive.unref();

      computation = startComputation(
        { examples, hyperparameters: h, evaluation, validation: options.validation, backend: options.backend },
        { isolation: options.isolation, nice: options.nice, signal, onEvent: (event) => write(event.progress, event) },
      );
      const run = await computation.result;
      await written;
      signal.throwIfAborted();
      write({ ...run.lastProgress, phase: 'EMBEDDING', etaSeconds: null });
      await written;
      // The training crystals were embedded for the calibration: reuse those vectors.
      const known = new Map(examples.map((e, i) => [e.materialId, run.trainEmbeddings[i]!]));
      const running = computation;
      const embeddings = await embedAllMaterialsWith(db, h, (items) => running.embed(items), { signal, logger, known });
      clearInterval(keepalive);
      await written;
      signal.throwIfAborted();
      const record = await completeTraining(db, {
        modelId,
        jobId: job.id,
        workerId,
        artifact: run.artifact,
        backend: run.backend,
        curve: run.curve,
        threshold: run.threshold,
        distanceScale: run.distanceScale,
        evaluation: run.evaluation,
        embeddings,
        progress: run.lastProgress,
      });
      if (!record) {
        logger.warn({ modelId }, 'model was cancelled or the job was taken over; nothing committed');
        return { modelId, committed: false };
      }
      logger.info(
        { modelId, epochs: run.curve.length, embeddings: embeddings.length, active: record.isActive, fitSeconds: run.fitSeconds, heldOut: record.heldOutMetrics?.label ?? record.noHeldOutReason },
        'model READY',
      );
      return { modelId, committed: true, epochs: run.curve.length, embeddings: embeddings.length };
    } catch (error) {
      // Aborted: cancelled (already CANCELLED), lease lost (another worker owns it) or the worker
      // is stopping (the job is retried after its lease): the model row is not this attempt's to change.
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const failure =
        error instanceof TrainingDivergedError
          ? new TrainingDivergedError(`${message}; the model was not saved (the active model keeps serving)`, error.divergence)
          : error;
      const final = !isRetryable(failure) || job.attempts >= job.maxAttempts;
      await failTraining(db, modelId, failure instanceof Error ? failure.message : message, { final, owner });
      throw failure;
    } finally {
      clearInterval(keepalive);
      await computation?.close();
    }
  };
}
