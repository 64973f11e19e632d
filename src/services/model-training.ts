/**
 * The training life cycle of a model, as the train_model task drives it: beginTraining fixes the
 * training set and moves the model to TRAINING, recordProgress reports epochs, completeTraining
 * stages the embeddings and publishes the trained model (READY) in one short transaction,
 * failTraining records a failed attempt, failOrphanedTrainings fails models whose job is gone.
 * The registry itself (records, training requests, activation, cancellation) is models.ts.
 */
import { NotFoundError } from '../errors.js';
import { enqueueJob } from '../jobs/queue.js';
import { EMBED_MATERIALS_TASK, type EmbedMaterialsPayload } from '../jobs/tasks.js';
import { embeddingWidth, resolveStoredHyperparameters, type Hyperparameters, type ModelArtifact } from '../model/index.js';
import { rescoreModel } from '../screening/maintenance.js';
import { inTransaction, type Db } from '../store/database.js';
import {
  deleteModelEmbeddings,
  discardStagedEmbeddings,
  insertStagedEmbeddingRows,
  publishStagedEmbeddings,
} from '../store/embedding.repository.js';
import {
  failOrphanedTrainingRows,
  findActiveModelRow,
  findCurrentTrainingRows,
  findTrainingRowsByLabelIds,
  jobStillHeldBy,
  lockActiveModelSlot,
  lockModelRow,
  progressMarkedDone,
  recordTrainingProgress,
  updateModelRow,
  type JobOwner,
  type TrainingRow,
} from '../store/model.repository.js';
import { toVectorLiteral } from '../store/vector.js';
import type { Structure } from '../structure/structure.js';
import { usableForTraining } from '../training/every-row.js';
import {
  ensureModelIndex,
  getModel,
  initialProgress,
  modelRowToRecord,
  notifyProgress,
  nullIfNotFinite,
  publishProgress,
  type CurvePoint,
  type LabelCounts,
  type ModelEvaluation,
  type ModelProgress,
  type ModelRecord,
} from './models.js';

export interface TrainingExample {
  labelId: string;
  materialId: string;
  formula: string;
  family: string | null;
  /** 1 = FAST, 0 = POOR. */
  label: 0 | 1;
  /** Null for a material known by its formula (models that read compositions learn from it). */
  structure: Structure | null;
}

export interface TrainingStart {
  model: ModelRecord;
  hyperparameters: Hyperparameters;
  examples: TrainingExample[];
}

function toExamples(rows: readonly TrainingRow[]): TrainingExample[] {
  return rows.map((r) => ({
    labelId: r.labelId,
    materialId: r.materialId,
    formula: r.formula,
    family: r.family,
    label: r.class === 'FAST' ? 1 : 0,
    structure: (r.structure as Structure | null) ?? null,
  }));
}

/**
 * Moves a model to TRAINING and fixes its training set. The first attempt records the current
 * labels of every structure material (label ids and class counts); a retried attempt reuses that
 * recorded snapshot, so every attempt trains on the labels as they were when training started.
 * Returns null when the model is no longer waiting to be trained (cancelled, or READY because
 * an earlier attempt committed just before its worker died).
 */
export async function beginTraining(db: Db, modelId: string): Promise<TrainingStart | null> {
  const start = await inTransaction(db, async (tx) => {
    const row = await lockModelRow(tx, modelId);
    if (!row) throw new NotFoundError('model', modelId);
    if (row.status !== 'QUEUED' && row.status !== 'TRAINING') return null;
    const snapshot = row.label_snapshot as string[] | null;
    const rows = snapshot ? await findTrainingRowsByLabelIds(tx, snapshot) : await findCurrentTrainingRows(tx);
    const h = resolveStoredHyperparameters(row.hyperparameters as Partial<Hyperparameters>);
    const examples = toExamples(rows).filter((e) => usableForTraining(e, h));
    const counts: LabelCounts = {
      fast: examples.filter((e) => e.label === 1).length,
      poor: examples.filter((e) => e.label === 0).length,
    };
    const updated = await updateModelRow(tx, modelId, {
      status: 'TRAINING',
      started_at: row.started_at ?? new Date(),
      error: null,
      // A retry starts the curve again (the earlier attempt's epochs are gone with its worker).
      training_curve: '[]',
      progress: JSON.stringify({ ...initialProgress(h.maxEpochs), phase: 'TRAINING' } satisfies ModelProgress),
      ...(snapshot ? {} : { label_snapshot: JSON.stringify(examples.map((e) => e.labelId)), label_counts: JSON.stringify(counts) }),
    });
    return { model: modelRowToRecord(updated!), hyperparameters: h, examples };
  });
  if (start) await publishProgress(db, start.model);
  return start;
}

/**
 * Replaces the progress (and appends a curve point) while TRAINING, and NOTIFYs listeners. With
 * `owner` (the training task), only while that worker still holds the job; false otherwise.
 */
export async function recordProgress(
  db: Db,
  modelId: string,
  progress: ModelProgress,
  curvePoint?: CurvePoint,
  owner?: JobOwner,
): Promise<boolean> {
  const clean: ModelProgress = {
    ...progress,
    trainLoss: nullIfNotFinite(progress.trainLoss),
    validationLoss: nullIfNotFinite(progress.validationLoss),
    etaSeconds: nullIfNotFinite(progress.etaSeconds),
  };
  const point = curvePoint
    ? { epoch: curvePoint.epoch, trainLoss: nullIfNotFinite(curvePoint.trainLoss), validationLoss: nullIfNotFinite(curvePoint.validationLoss) }
    : null;
  const ok = await recordTrainingProgress(db, modelId, { ...clean }, point, owner);
  if (ok) await notifyProgress(db, { modelId, status: 'TRAINING', progress: clean });
  return ok;
}

export interface MaterialEmbedding {
  materialId: string;
  vector: ArrayLike<number>;
}

export interface CompletedTraining {
  modelId: string;
  /** The job and worker that must still hold it: a worker that lost its lease commits nothing. */
  jobId: string;
  workerId: string;
  artifact: ModelArtifact;
  backend: string;
  curve: CurvePoint[];
  threshold: number | null;
  /** The model's distance scale (src/scoring/score.ts; null: plain distances). */
  distanceScale: number | null;
  evaluation: ModelEvaluation;
  embeddings: readonly MaterialEmbedding[];
  /** The final progress shown (last epoch's numbers). */
  progress: ModelProgress;
}

/**
 * Embeddings staged per statement while a model is published. On the embedded default each
 * statement holds the one PGlite connection (and the serving thread): 64 rows of 96 floats take
 * 15–40 ms there, against 0.2–0.4 s for all 757 in one statement (2 cores, load 5–10).
 */
export const STAGE_EMBEDDINGS_BATCH = 64;

/**
 * Writes the new model's embeddings into embedding_stage in short transactions (each checks that
 * this worker still holds the job and the model is still TRAINING, under the model's row lock),
 * yielding to other work between them; an earlier attempt's leftovers are dropped first. No reader
 * looks at the stage. Returns false when the job or the model is no longer this worker's to publish.
 */
async function stageTrainingEmbeddings(db: Db, done: CompletedTraining): Promise<boolean> {
  const stillOurs = async (tx: Db) => (await jobStillHeldBy(tx, done.jobId, done.workerId)) && (await lockModelRow(tx, done.modelId))?.status === 'TRAINING';
  const clean = await inTransaction(db, async (tx) => {
    if (!(await stillOurs(tx))) return false;
    await discardStagedEmbeddings(tx, done.modelId);
    return true;
  });
  if (!clean) return false;
  for (let start = 0; start < done.embeddings.length; start += STAGE_EMBEDDINGS_BATCH) {
    // Let the requests that queued behind the last statement run first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = done.embeddings.slice(start, start + STAGE_EMBEDDINGS_BATCH);
    const ok = await inTransaction(db, async (tx) => {
      if (!(await stillOurs(tx))) return false;
      await insertStagedEmbeddingRows(tx, batch.map((e) => ({ model_id: done.modelId, material_id: e.materialId, vec: toVectorLiteral(e.vector) })));
      return true;
    });
    if (!ok) return false;
  }
  await new Promise<void>((resolve) => setImmediate(resolve));
  return true;
}

/**
 * Publishes a trained model: its embeddings are first staged in short batches (embedding_stage,
 * which no reader looks at), then ONE transaction moves them into `embedding`, writes weights,
 * curve, threshold, metrics, status READY, and active when no other model is, and writes the
 * model's screening scores (rescoreModel: one statement) — so readers see either no model or the
 * whole of it, scores included, and never build them themselves. The serving thread of the
 * embedded default is never held for the staging. Commits nothing (returns null) if the model was
 * cancelled meanwhile or the job is no longer this worker's. Then builds the model's HNSW index
 * (outside the transaction; idempotent, and repeated by embed_materials).
 */
export async function completeTraining(db: Db, done: CompletedTraining): Promise<ModelRecord | null> {
  if (!(await stageTrainingEmbeddings(db, done))) return null;
  const record = await inTransaction(db, async (tx) => {
    if (!(await jobStillHeldBy(tx, done.jobId, done.workerId))) return null;
    const row = await lockModelRow(tx, done.modelId);
    if (!row || row.status !== 'TRAINING') return null;
    // Nothing of this model is in `embedding` before this commit (an earlier attempt committed nothing).
    await deleteModelEmbeddings(tx, done.modelId);
    const moved = await publishStagedEmbeddings(tx, done.modelId);
    // Every staged row was this attempt's (staging checked the job under the row lock); a material
    // deleted meanwhile took its staged row along, so `moved` may be smaller, never larger.
    if (moved > done.embeddings.length) throw new Error(`model ${done.modelId}: ${moved} staged embeddings for ${done.embeddings.length} computed`);
    await lockActiveModelSlot(tx);
    const becomesActive = (await findActiveModelRow(tx)) === undefined;
    const updated = await updateModelRow(tx, done.modelId, {
      status: 'READY',
      is_active: becomesActive,
      weights: JSON.stringify(done.artifact),
      backend: done.backend,
      embedding_dim: embeddingWidth(done.artifact.hyperparameters),
      distance: done.artifact.hyperparameters.distance,
      threshold: done.threshold,
      distance_scale: done.distanceScale,
      metrics: JSON.stringify(done.evaluation),
      training_curve: JSON.stringify(done.curve.map((p) => ({ epoch: p.epoch, trainLoss: nullIfNotFinite(p.trainLoss), validationLoss: nullIfNotFinite(p.validationLoss) }))),
      progress: JSON.stringify({ ...done.progress, phase: 'DONE', etaSeconds: 0 } satisfies ModelProgress),
      error: null,
      finished_at: new Date(),
    });
    // Its screening scores commit with it: a read never builds them.
    await rescoreModel(tx, done.modelId);
    // Materials added while this model trained are not in `embeddings`; the job embeds them.
    if (becomesActive) await enqueueJob(tx, EMBED_MATERIALS_TASK, { modelId: done.modelId } satisfies EmbedMaterialsPayload);
    return modelRowToRecord(updated!);
  });
  if (record) {
    await ensureModelIndex(db, record);
    await publishProgress(db, record);
  }
  return record;
}

/**
 * Records a failed attempt. `final`: the job will not run again (bad input, NaN loss, attempts
 * spent) → FAILED; otherwise the model waits, QUEUED, for the retry. Only while QUEUED/TRAINING,
 * and with `owner` only while that worker still holds the job (one that lost its lease must not
 * reset the model another worker is training).
 */
export async function failTraining(
  db: Db,
  modelId: string,
  message: string,
  opts: { final: boolean; owner?: JobOwner },
): Promise<ModelRecord | null> {
  const row = await inTransaction(db, async (tx) => {
    if (opts.owner && !(await jobStillHeldBy(tx, opts.owner.jobId, opts.owner.workerId))) return undefined;
    // What this attempt staged is never published (a retry stages afresh).
    await discardStagedEmbeddings(tx, modelId);
    return updateModelRow(
      tx,
      modelId,
      opts.final
        ? { status: 'FAILED', error: message, finished_at: new Date(), progress: progressMarkedDone() }
        : { status: 'QUEUED', error: `attempt failed, will retry: ${message}` },
      ['QUEUED', 'TRAINING'],
    );
  });
  const record = row ? modelRowToRecord(row) : null;
  if (record) await publishProgress(db, record);
  return record;
}


/**
 * Fails models whose training job can no longer run (see failOrphanedTrainingRows); the trainer
 * calls this now and then. Returns the ids.
 */
export async function failOrphanedTrainings(db: Db): Promise<string[]> {
  const ids = await failOrphanedTrainingRows(db);
  for (const id of ids) {
    await discardStagedEmbeddings(db, id);
    const model = await getModel(db, id);
    if (model) await publishProgress(db, model);
  }
  return ids;
}
