/**
 * The model registry: training requests, activation, cancellation, and installing the shipped
 * default model (the training life cycle the trainer drives is model-training.ts). GraphQL, the CLI
 * and the trainer call this; `db` is always the first argument and may be a transaction. Rows map
 * to records here.
 *
 * Life cycle: QUEUED → TRAINING → READY | FAILED; QUEUED/TRAINING → CANCELLED. Exactly one
 * model at a time may be active (a partial unique index, and an advisory lock around changes).
 * A READY model's weights, curve, threshold and embeddings appear in one transaction, so a
 * worker that dies before it commits leaves nothing half-written.
 */
import { BadInputError, InvalidJobStateError, ModelNotReadyError, NotFoundError } from '../errors.js';
import { checkModelId } from '../ids.js';
import { enqueueJob, cancelJob } from '../jobs/queue.js';
import {
  EMBED_MATERIALS_TASK,
  TRAIN_MODEL_TASK,
  type EmbedMaterialsPayload,
  type EvaluationProtocol,
  type TrainModelPayload,
} from '../jobs/tasks.js';
import {
  embeddingWidth,
  paperHyperparameters,
  slotHyperparameters,
  resolveHyperparameters,
  trainDefaultHyperparameters,
  type Hyperparameters,
} from '../model/index.js';
import { rescoreModel } from '../screening/maintenance.js';
import { inTransaction, type Db } from '../store/database.js';
import { discardStagedEmbeddings } from '../store/embedding.repository.js';
import {
  deactivateOtherModels,
  findActiveModelRow,
  findModelRow,
  findOpenTrainingJobIds,
  insertModelRow,
  listModelRows,
  lockActiveModelSlot,
  lockModelRow,
  notify,
  progressMarkedDone,
  updateModelRow,
  type ModelSummaryRow,
} from '../store/model.repository.js';
import type { EmbeddingDistance, ModelStatus } from '../store/model.table.js';
import { createModelVectorIndex } from '../store/vector.js';

export type { ModelStatus, EmbeddingDistance };

// Task identifiers and payloads of the job queue live in src/jobs/tasks.ts.
export { EMBED_MATERIALS_TASK, TRAIN_MODEL_TASK, type EmbedMaterialsPayload, type EvaluationProtocol, type TrainModelPayload };
/** NOTIFY channel of training progress; payload: JSON {@link TrainingProgressEvent}. */
export const TRAINING_CHANNEL = 'ionsieve_training';

export type HyperparameterPreset = 'PAPER' | 'SLOTS' | 'DEFAULT';
export type TrainingPhase = 'QUEUED' | 'TRAINING' | 'EVALUATING' | 'EMBEDDING' | 'DONE';

export interface ModelProgress {
  phase: TrainingPhase;
  /** Epochs finished (0 before the first). */
  epoch: number;
  maxEpochs: number;
  /** Null before the first epoch (JSON has no NaN). */
  trainLoss: number | null;
  /** Null without a validation set. */
  validationLoss: number | null;
  /** Upper bound (assumes every epoch up to maxEpochs runs; early stopping ends sooner). Null when unknown. */
  etaSeconds: number | null;
  /** EVALUATING: the fold being fitted (1-based) and how many; `epoch` is then that fold's. */
  fold?: number | null;
  folds?: number | null;
  /** Seconds since the job started; every event carries it, so a keepalive is a new event. */
  elapsedSeconds?: number | null;
}

export interface CurvePoint {
  epoch: number;
  trainLoss: number | null;
  validationLoss: number | null;
}

export type MetricsProtocol = 'TRAIN' | 'LOO' | 'GROUP_KFOLD';

/**
 * Classification figures of the score R under one protocol. Held-out protocols (GROUP_KFOLD, LOO)
 * estimate how the configuration does on materials it did not train on; TRAIN figures are the fit
 * to the training data (leave-self-out scores of the training crystals) and are never an estimate
 * of the model's accuracy.
 */
export interface ModelMetrics {
  protocol: MetricsProtocol;
  /** False for TRAIN. */
  heldOut: boolean;
  accuracy: number | null;
  sensitivity: number | null;
  specificity: number | null;
  balancedAccuracy: number | null;
  rocAuc: number | null;
  /** Sample sd of the ROC-AUC over seeds (null with one seed). */
  rocAucSd?: number | null;
  prAuc: number | null;
  /** The threshold at which accuracy/sensitivity/specificity were taken (FAST when R > threshold). */
  threshold: number | null;
  /** Rows scored (per seed). */
  n: number;
  /** Folds of GROUP_KFOLD (LOO: rows); null for TRAIN. */
  folds?: number | null;
  /** Seeds of the cross-validation (each its own fold assignment and model randomness). */
  seeds?: number[] | null;
  /** Where the figures come from: the trainModel job, or the command that measured them. */
  source?: string | null;
  note?: string;
  /** One line naming the protocol, e.g. "held out: grouped 5-fold × 1 seed, n = 254". */
  label: string;
}

/** Precision/recall of one threshold on R (src/scoring/operating-points.ts). */
export interface OperatingPointRecord {
  threshold: number;
  precision: number | null;
  recall: number;
  falsePositiveRate: number;
  predictedFastRate: number;
}

/**
 * The model's decision threshold on R and what to expect at it. With a held-out evaluation the
 * threshold is chosen (max balanced accuracy) on the out-of-fold scores and the figures are
 * measured on them; without one, on the training crystals' leave-self-out scores (`heldOut` false).
 */
export interface ModelDecision {
  threshold: number;
  protocol: MetricsProtocol;
  heldOut: boolean;
  precision: number | null;
  recall: number;
  falsePositiveRate: number;
  balancedAccuracy: number;
  /** Scores the threshold was chosen on. */
  n: number;
  /** Other thresholds, ascending. */
  operatingPoints: OperatingPointRecord[];
  label: string;
}

/** A training material's score from the fold model that did not train on it. */
export interface OutOfFoldScore {
  materialId: string;
  label: 'FAST' | 'POOR';
  score: number;
  fold: number;
}

/** What the `metrics` column holds: every estimate (held out first), the decision, the out-of-fold scores. */
export interface ModelEvaluation {
  metrics: ModelMetrics[];
  decision: ModelDecision | null;
  outOfFold: OutOfFoldScore[];
  /** Why there is no held-out estimate (evaluation NONE, no usable fold, a shipped model not yet evaluated). */
  noHeldOutReason?: string | null;
}

export interface LabelCounts {
  fast: number;
  poor: number;
}

export interface ModelRecord {
  id: string;
  name: string;
  status: ModelStatus;
  isActive: boolean;
  hyperparameters: Record<string, unknown>;
  backend: string | null;
  embeddingDim: number | null;
  distance: EmbeddingDistance;
  /** R averages 1 − exp(−d/distanceScale) (src/scoring/score.ts); null: plain distances. */
  distanceScale: number | null;
  threshold: number | null;
  progress: ModelProgress | null;
  trainingCurve: CurvePoint[];
  /** Held-out estimates first, then the fit to the training data; empty when never evaluated. */
  metrics: ModelMetrics[];
  /** The first held-out estimate, or null: the model has no held-out estimate. */
  heldOutMetrics: ModelMetrics | null;
  decision: ModelDecision | null;
  outOfFoldScores: OutOfFoldScore[];
  /** Null when there is a held-out estimate; otherwise why there is none. */
  noHeldOutReason: string | null;
  labelCounts: LabelCounts | null;
  error: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** What NOTIFY carries on {@link TRAINING_CHANNEL}. */
export interface TrainingProgressEvent {
  modelId: string;
  status: ModelStatus;
  progress: ModelProgress | null;
}

export interface TrainModelInput {
  name: string;
  preset?: HyperparameterPreset | null;
  k?: number | null;
  layers?: number | null;
  featureLength?: number | null;
  denseLength?: number | null;
  embeddingDim?: number | null;
  margin?: number | null;
  distance?: EmbeddingDistance | null;
  objective?: Hyperparameters['objective'] | null;
  maxEpochs?: number | null;
  patience?: number | null;
  seed?: number | null;
  learningRate?: number | null;
  batchSize?: number | null;
  compositionDescriptors?: boolean | null;
  members?: number | null;
  evaluation?: EvaluationProtocol | null;
}

export const MAX_MODEL_NAME_CHARS = 200;
/** Attempts of a training job (a dead worker's job is retried; bad input fails at once). */
export const TRAIN_MODEL_MAX_ATTEMPTS = 3;

// ---------------------------------------------------------------------------------------------
// Rows → records

export const nullIfNotFinite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function modelRowToRecord(row: ModelSummaryRow): ModelRecord {
  const counts = row.label_counts as Record<string, number> | null;
  return {
    id: String(row.id),
    name: row.name,
    status: row.status,
    isActive: row.is_active,
    hyperparameters: row.hyperparameters ?? {},
    backend: row.backend,
    embeddingDim: row.embedding_dim,
    distance: row.distance,
    distanceScale: row.distance_scale,
    threshold: row.threshold,
    progress: (row.progress as ModelProgress | null) ?? null,
    trainingCurve: ((row.training_curve as CurvePoint[] | null) ?? []).map((p) => ({
      epoch: p.epoch,
      trainLoss: nullIfNotFinite(p.trainLoss),
      validationLoss: nullIfNotFinite(p.validationLoss),
    })),
    ...evaluationFields(readEvaluation(row.metrics)),
    labelCounts: counts ? { fast: Number(counts.fast ?? 0), poor: Number(counts.poor ?? 0) } : null,
    error: row.error,
    createdBy: row.created_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** One line naming a protocol's figures, as every view shows it. */
export function metricsLabel(m: Pick<ModelMetrics, 'protocol' | 'folds' | 'seeds' | 'n'>): string {
  const seeds = m.seeds?.length ?? 1;
  const times = `${seeds} seed${seeds === 1 ? '' : 's'}`;
  if (m.protocol === 'GROUP_KFOLD') return `held out: grouped ${m.folds ?? '?'}-fold × ${times}, n = ${m.n}`;
  if (m.protocol === 'LOO') return `held out: leave-one-out × ${times}, n = ${m.n}`;
  return `fit to the training data (not held out), n = ${m.n}`;
}

function normaliseMetrics(raw: Record<string, unknown>): ModelMetrics {
  const m = raw as unknown as ModelMetrics;
  const protocol = m.protocol ?? 'TRAIN';
  const out: ModelMetrics = { ...m, protocol, heldOut: protocol !== 'TRAIN', folds: m.folds ?? null, seeds: m.seeds ?? null, source: m.source ?? null, label: '' };
  out.label = metricsLabel(out);
  return out;
}

/** Held-out estimates before the fit to the training data (stable otherwise). */
export function orderMetrics(metrics: readonly ModelMetrics[]): ModelMetrics[] {
  return [...metrics].sort((a, b) => Number(b.heldOut) - Number(a.heldOut));
}

/** The metrics column: a ModelEvaluation, or (rows before it) one ModelMetrics object. */
export function readEvaluation(value: unknown): ModelEvaluation {
  if (!value || typeof value !== 'object') return { metrics: [], decision: null, outOfFold: [], noHeldOutReason: null };
  const v = value as Partial<ModelEvaluation> & Record<string, unknown>;
  if (!Array.isArray(v.metrics)) return { metrics: [normaliseMetrics(v)], decision: null, outOfFold: [], noHeldOutReason: null };
  const decision = v.decision ? { ...v.decision, label: decisionLabel(v.decision) } : null;
  const metrics = orderMetrics(v.metrics.map((m) => normaliseMetrics(m as unknown as Record<string, unknown>)));
  return { metrics, decision, outOfFold: v.outOfFold ?? [], noHeldOutReason: v.noHeldOutReason ?? null };
}

export function decisionLabel(d: Pick<ModelDecision, 'protocol' | 'n'>): string {
  return d.protocol === 'TRAIN'
    ? `chosen and measured on the training crystals' own scores (fit, not held out), n = ${d.n}`
    : `chosen and measured on out-of-fold scores (${d.protocol === 'LOO' ? 'leave-one-out' : 'grouped k-fold'}), n = ${d.n}`;
}

function evaluationFields(e: ModelEvaluation): Pick<ModelRecord, 'metrics' | 'heldOutMetrics' | 'decision' | 'outOfFoldScores' | 'noHeldOutReason'> {
  const heldOut = e.metrics.find((m) => m.heldOut) ?? null;
  const reason = heldOut ? null : (e.noHeldOutReason ?? (e.metrics.length > 0 ? 'trained without a held-out evaluation (evaluation NONE)' : 'not evaluated'));
  return { metrics: e.metrics, heldOutMetrics: heldOut, decision: e.decision, outOfFoldScores: e.outOfFold, noHeldOutReason: reason };
}

// ---------------------------------------------------------------------------------------------
// Input checks

export { checkModelId } from '../ids.js';

function intInRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BadInputError(`${field} must be an integer in ${min}..${max}, got ${String(value)}`, { field });
  }
  return value;
}

const PRESETS: Record<HyperparameterPreset, Readonly<Hyperparameters>> = {
  PAPER: paperHyperparameters,
  SLOTS: slotHyperparameters,
  DEFAULT: trainDefaultHyperparameters,
};

/**
 * The full hyperparameters of a training request: the preset (DEFAULT unless named), then the
 * given fields. Throws BadInputError naming the first bad field. The API's ranges are narrower
 * than what the model code accepts: they bound one job's time and memory.
 */
export function trainingHyperparameters(input: TrainModelInput): { hyperparameters: Hyperparameters; evaluation: EvaluationProtocol } {
  const presetName = input.preset ?? 'DEFAULT';
  const preset = PRESETS[presetName];
  if (!preset) throw new BadInputError(`unknown preset ${String(presetName)} (known: PAPER, SLOTS, DEFAULT)`, { field: 'preset' });
  const h: Partial<Hyperparameters> = {};
  const given = <K extends keyof TrainModelInput>(key: K): TrainModelInput[K] | undefined => (input[key] === null ? undefined : input[key]);
  if (given('k') !== undefined) h.k = intInRange('k', input.k, 1, 32);
  if (given('layers') !== undefined) h.layers = intInRange('layers', input.layers, 1, 6);
  if (given('featureLength') !== undefined) h.featureLength = intInRange('featureLength', input.featureLength, 8, 256);
  if (given('denseLength') !== undefined) h.denseLength = intInRange('denseLength', input.denseLength, 8, 256);
  if (given('embeddingDim') !== undefined) h.embeddingDim = intInRange('embeddingDim', input.embeddingDim, 2, 512);
  if (given('maxEpochs') !== undefined) h.maxEpochs = intInRange('maxEpochs', input.maxEpochs, 1, 500);
  if (given('patience') !== undefined) h.patience = intInRange('patience', input.patience, 1, 100);
  if (given('batchSize') !== undefined) h.batchSize = intInRange('batchSize', input.batchSize, 2, 256);
  if (given('members') !== undefined) h.members = intInRange('members', input.members, 1, 8);
  if (given('seed') !== undefined) h.seed = intInRange('seed', input.seed, -2147483648, 2147483647);
  if (given('margin') !== undefined) {
    if (typeof input.margin !== 'number' || !Number.isFinite(input.margin) || input.margin <= 0 || input.margin > 100) {
      throw new BadInputError(`margin must be a number in (0, 100], got ${String(input.margin)}`, { field: 'margin' });
    }
    h.margin = input.margin;
  }
  if (given('learningRate') !== undefined) {
    const lr = input.learningRate;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0 || lr > 1) {
      throw new BadInputError(`learningRate must be a number in (0, 1], got ${String(lr)}`, { field: 'learningRate' });
    }
    h.learningRate = lr;
  }
  if (given('compositionDescriptors') !== undefined) {
    if (typeof input.compositionDescriptors !== 'boolean') {
      throw new BadInputError(`compositionDescriptors must be a boolean, got ${String(input.compositionDescriptors)}`, { field: 'compositionDescriptors' });
    }
    h.compositionDescriptors = input.compositionDescriptors;
    // Composition-only training copies and the composition warm-up need the descriptors.
    if (!input.compositionDescriptors) {
      h.compositionViews = false;
      h.compositionEpochs = 0;
    }
  }
  if (given('distance') !== undefined) {
    if (input.distance !== 'EUCLIDEAN' && input.distance !== 'COSINE') {
      throw new BadInputError(`distance must be EUCLIDEAN or COSINE, got ${String(input.distance)}`, { field: 'distance' });
    }
    h.distance = input.distance;
  }
  if (given('objective') !== undefined) {
    if (!['CONTRASTIVE', 'CROSS_ENTROPY', 'JOINT'].includes(String(input.objective))) {
      throw new BadInputError(`objective must be CONTRASTIVE, CROSS_ENTROPY or JOINT, got ${String(input.objective)}`, { field: 'objective' });
    }
    h.objective = input.objective!;
  }
  // Held out unless asked not to: a model's first figure must not be its fit to its own training data.
  const evaluation = input.evaluation ?? 'GROUP_KFOLD';
  if (!['NONE', 'LOO', 'GROUP_KFOLD'].includes(evaluation)) {
    throw new BadInputError(`evaluation must be NONE, LOO or GROUP_KFOLD, got ${String(evaluation)}`, { field: 'evaluation' });
  }
  // Preset values themselves are checked once more by the model code.
  return { hyperparameters: resolveHyperparameters({ ...preset, ...h }), evaluation };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new BadInputError('name must not be empty', { field: 'name' });
  const trimmed = name.trim();
  if (trimmed.length > MAX_MODEL_NAME_CHARS) throw new BadInputError(`name is longer than ${MAX_MODEL_NAME_CHARS} characters`, { field: 'name' });
  return trimmed;
}

// ---------------------------------------------------------------------------------------------
// Registry API

/** Inserts a QUEUED model and its train_model job in one transaction. */
export async function requestTraining(db: Db, input: TrainModelInput, actor?: string | null): Promise<ModelRecord> {
  if (!input || typeof input !== 'object') throw new BadInputError('input is required');
  const name = checkName(input.name);
  const { hyperparameters, evaluation } = trainingHyperparameters(input);
  return inTransaction(db, async (tx) => {
    const row = await insertModelRow(tx, {
      name,
      status: 'QUEUED',
      hyperparameters: JSON.stringify(hyperparameters),
      distance: hyperparameters.distance,
      embedding_dim: embeddingWidth(hyperparameters),
      progress: JSON.stringify(initialProgress(hyperparameters.maxEpochs)),
      training_curve: '[]',
      created_by: actor ?? null,
    });
    const payload: TrainModelPayload = { modelId: String(row.id), evaluation };
    await enqueueJob(tx, TRAIN_MODEL_TASK, payload, { maxAttempts: TRAIN_MODEL_MAX_ATTEMPTS });
    return modelRowToRecord(row);
  });
}

export function initialProgress(maxEpochs: number): ModelProgress {
  return { phase: 'QUEUED', epoch: 0, maxEpochs, trainLoss: null, validationLoss: null, etaSeconds: null };
}

export async function getModel(db: Db, id: string): Promise<ModelRecord | null> {
  const row = await findModelRow(db, checkModelId(id));
  return row ? modelRowToRecord(row) : null;
}

export async function requireModel(db: Db, id: string): Promise<ModelRecord> {
  const model = await getModel(db, id);
  if (!model) throw new NotFoundError('model', id);
  return model;
}

/** Newest first. */
export async function listModels(db: Db, filter: { status?: ModelStatus } = {}): Promise<ModelRecord[]> {
  return (await listModelRows(db, filter)).map(modelRowToRecord);
}

export async function getActiveModel(db: Db): Promise<ModelRecord | null> {
  const row = await findActiveModelRow(db);
  return row ? modelRowToRecord(row) : null;
}

/**
 * Makes a READY model the one active model (others are deactivated in the same transaction) and
 * queues an embed_materials job so materials added since it was trained get embeddings. A model
 * without screening scores (never scored, or its scores dropped) gets them in this transaction:
 * activation is one of their writers, a read never is.
 */
export async function activateModel(db: Db, id: string): Promise<ModelRecord> {
  const modelId = checkModelId(id);
  return inTransaction(db, async (tx) => {
    await lockActiveModelSlot(tx);
    const row = await lockModelRow(tx, modelId);
    if (!row) throw new NotFoundError('model', modelId);
    if (row.status !== 'READY') throw new ModelNotReadyError(modelId, row.status);
    if (row.is_active) return modelRowToRecord(row);
    await deactivateOtherModels(tx, modelId);
    const updated = await updateModelRow(tx, modelId, { is_active: true });
    await rescoreModel(tx, modelId, { onlyIfMissing: true });
    await enqueueJob(tx, EMBED_MATERIALS_TASK, { modelId } satisfies EmbedMaterialsPayload);
    return modelRowToRecord(updated!);
  });
}

/**
 * Cancels a QUEUED or TRAINING model and its job. A running worker sees the cancelled job at its
 * next heartbeat and aborts; its final commit re-checks the status, so a cancel always wins.
 */
export async function cancelTraining(db: Db, id: string): Promise<ModelRecord> {
  const modelId = checkModelId(id);
  const record = await inTransaction(db, async (tx) => {
    const row = await lockModelRow(tx, modelId);
    if (!row) throw new NotFoundError('model', modelId);
    if (row.status !== 'QUEUED' && row.status !== 'TRAINING') {
      throw new InvalidJobStateError(`model ${modelId} is ${row.status}; only QUEUED or TRAINING models can be cancelled`, {
        modelId,
        status: row.status,
      });
    }
    const updated = await updateModelRow(tx, modelId, {
      status: 'CANCELLED',
      progress: progressMarkedDone(),
      finished_at: new Date(),
    });
    for (const jobId of await findOpenTrainingJobIds(tx, modelId)) await cancelJob(tx, jobId);
    // Embeddings a worker staged for it are never published now.
    await discardStagedEmbeddings(tx, modelId);
    return modelRowToRecord(updated!);
  });
  await publishProgress(db, record);
  return record;
}

/** Creates the model's HNSW index if it is missing (idempotent). */
export async function ensureModelIndex(db: Db, model: Pick<ModelRecord, 'id' | 'embeddingDim' | 'distance'>): Promise<void> {
  if (!model.embeddingDim) return;
  await createModelVectorIndex(db, model.id, model.embeddingDim, model.distance);
}

export async function notifyProgress(db: Db, event: TrainingProgressEvent): Promise<void> {
  await notify(db, TRAINING_CHANNEL, JSON.stringify(event));
}

export async function publishProgress(db: Db, model: ModelRecord): Promise<void> {
  await notifyProgress(db, { modelId: model.id, status: model.status, progress: model.progress });
}

// ---------------------------------------------------------------------------------------------
// The shipped default model

/** Where the shipped model lives, relative to the seed folder (`data/`). */
export const DEFAULT_MODEL_DIR = 'models/default';
/** created_by of the installed default model (makes installing idempotent). */
export const DEFAULT_MODEL_CREATOR = 'seed';

/** data/models/default/manifest.json (written by `ionsieve train-default`). */
export interface DefaultModelManifest {
  name: string;
  hyperparameters: Hyperparameters;
  /** Why these hyperparameters (e.g. "trainDefaultHyperparameters: docs/RESULTS.md did not exist"). */
  configurationSource: string;
  labelCounts: LabelCounts;
  /** OBELiX ids of the training crystals (material.source_id after seeding). */
  trainingIds: string[];
  dataHash: string;
  backend: string;
  seed: number;
  epochs: number;
  bestEpoch: number;
  wallSeconds: number;
  command: string;
  threshold: number;
  /** The model's distance scale (src/scoring/score.ts); absent in manifests written before it existed: plain distances. */
  distanceScale?: number | null;
  /** Held-out estimates first (from `train-default --held-out`), then the fit to the training data. */
  metrics: ModelMetrics[] | ModelMetrics;
  /** Present without a held-out estimate: why there is none. */
  heldOutNote?: string;
  decision?: ModelDecision | null;
  /** Out-of-fold scores of the training crystals, by OBELiX id (one seed of the held-out run). */
  outOfFold?: { sourceId: string; label: 'FAST' | 'POOR'; score: number; fold: number }[];
  trainingCurve: CurvePoint[];
  createdAt: string;
  artifactBytes?: number;
}

