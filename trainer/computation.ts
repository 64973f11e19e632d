/**
 * The CPU-heavy part of a train_model job, with no database: fit the model, evaluate its
 * configuration on held-out folds, calibrate the threshold, then embed structures on request.
 * It runs in a child process (computation-process.ts, started by computation-client.ts) so that
 * training never holds the serving process's event loop, heap or — with a lower nice value — its
 * CPU; or inline (tests that need it, IONSIEVE_TRAINER_ISOLATION=inline).
 */
import { embedStructureBatch, type KnagcnModel, type ModelArtifact } from '../src/model/index.js';
import { embedFormulas } from '../src/services/embeddings.js';
import type { TrainingExample } from '../src/services/model-training.js';
import type { CurvePoint, EvaluationProtocol, ModelEvaluation, ModelProgress } from '../src/services/models.js';
import type { Structure } from '../src/structure/structure.js';
import type { FitOptions } from '../src/training/train.js';
import { evaluateConfiguration } from './evaluation.js';
import { runTraining } from './training-run.js';
import type { Hyperparameters } from '../src/model/index.js';

export interface ComputationInput {
  examples: TrainingExample[];
  hyperparameters: Hyperparameters;
  evaluation: EvaluationProtocol;
  validation?: FitOptions['validation'];
  backend?: FitOptions['backend'];
}

export interface ComputationEvent {
  progress: ModelProgress;
  /** Present after an epoch of the model itself (not of a fold): a point of its training curve. */
  curvePoint?: CurvePoint;
}

export interface ComputationResult {
  artifact: ModelArtifact;
  backend: string;
  curve: CurvePoint[];
  fitSeconds: number;
  bestEpoch: number;
  /** Inference-mode embeddings of the training crystals, in example order. */
  trainEmbeddings: Float32Array[];
  threshold: number;
  /** The model's distance scale (src/scoring/score.ts; null: plain distances). */
  distanceScale: number | null;
  evaluation: ModelEvaluation;
  /** The last progress of the model's own fit (its final epoch's numbers). */
  lastProgress: ModelProgress;
}

export interface EmbeddedBatch {
  vectors: (Float32Array | null)[];
  errors: (string | null)[];
}

/** A material to embed: its structure, or its formula alone (models that read compositions). */
export interface EmbedItem {
  structure: Structure | null;
  formula: string;
}

export interface Computation {
  result: ComputationResult;
  embed(items: readonly EmbedItem[]): EmbeddedBatch;
  dispose(): void;
}

/** Structures through their graphs, formula-only materials through the composition pathway. */
function embedItems(model: KnagcnModel, items: readonly EmbedItem[]): EmbeddedBatch {
  const vectors: (Float32Array | null)[] = items.map(() => null);
  const errors: (string | null)[] = items.map(() => null);
  const withStructure = items.flatMap((item, i) => (item.structure ? [i] : []));
  const formulaOnly = items.flatMap((item, i) => (item.structure ? [] : [i]));
  const batch = embedStructureBatch(model, withStructure.map((i) => items[i]!.structure!), { batchSize: 64 });
  withStructure.forEach((i, j) => {
    vectors[i] = batch.vectors[j] ?? null;
    errors[i] = batch.errors[j] ?? null;
  });
  embedFormulas(model, formulaOnly.map((i) => items[i]!.formula)).forEach((vector, j) => {
    vectors[formulaOnly[j]!] = vector;
    if (!vector) errors[formulaOnly[j]!] = `formula ${items[formulaOnly[j]!]!.formula} cannot be embedded by this model`;
  });
  return { vectors, errors };
}

/** Fits the model folds take about this share of the full fit's time (4 of 5 folds' rows). */
const FOLD_SHARE = 0.8;

export async function runComputation(input: ComputationInput, emit: (event: ComputationEvent) => void, signal?: AbortSignal): Promise<Computation> {
  const { examples, hyperparameters: h, evaluation } = input;
  const folds = evaluation === 'GROUP_KFOLD' ? 5 : 0;
  let last: ModelProgress = { phase: 'TRAINING', epoch: 0, maxEpochs: h.maxEpochs, trainLoss: null, validationLoss: null, etaSeconds: null };
  let fitSeconds = 0;
  const run = await runTraining(
    examples,
    examples.map((e) => e.label),
    h,
    {
      signal,
      validation: input.validation,
      backend: input.backend,
      onEpoch: (p) => {
        const perEpoch = p.elapsedMs / 1000 / p.epoch;
        // An upper bound: every epoch up to maxEpochs, then each fold as long as a full fit's share.
        const eta = perEpoch * (p.maxEpochs - p.epoch) + folds * FOLD_SHARE * perEpoch * p.maxEpochs;
        last = { phase: 'TRAINING', epoch: p.epoch, maxEpochs: p.maxEpochs, trainLoss: p.trainLoss, validationLoss: p.validationLoss, etaSeconds: Math.round(eta) };
        emit({ progress: last, curvePoint: { epoch: p.epoch, trainLoss: p.trainLoss, validationLoss: p.validationLoss } });
      },
    },
  );
  fitSeconds = run.fitSeconds;
  try {
    let threshold = run.calibration.threshold;
    let result: ModelEvaluation = {
      metrics: [run.calibration.metrics],
      decision: run.calibration.decision,
      outOfFold: [],
      noHeldOutReason: evaluation === 'NONE' ? 'trained with evaluation NONE (no held-out folds)' : null,
    };
    if (evaluation !== 'NONE') {
      const foldSeconds: number[] = [];
      let foldStarted = performance.now();
      const total = evaluation === 'LOO' ? null : folds;
      const estimateFold = () => (foldSeconds.length ? foldSeconds.reduce((a, b) => a + b, 0) / foldSeconds.length : FOLD_SHARE * fitSeconds);
      emit({ progress: { ...last, phase: 'EVALUATING', fold: 0, folds: total, epoch: 0, trainLoss: null, validationLoss: null, etaSeconds: Math.round((total ?? 1) * estimateFold()) } });
      const evaluated = await evaluateConfiguration(examples, h, evaluation, {
        signal,
        validation: input.validation,
        onFoldStart: (fold, n) => {
          foldStarted = performance.now();
          emit({ progress: { ...last, phase: 'EVALUATING', fold, folds: n, epoch: 0, trainLoss: null, validationLoss: null, etaSeconds: Math.round((n - fold + 1) * estimateFold()) } });
        },
        onEpoch: (fold, n, p) => {
          const perEpoch = p.elapsedMs / 1000 / p.epoch;
          const eta = perEpoch * (p.maxEpochs - p.epoch) + (n - fold) * estimateFold();
          emit({ progress: { phase: 'EVALUATING', fold, folds: n, epoch: p.epoch, maxEpochs: p.maxEpochs, trainLoss: p.trainLoss, validationLoss: p.validationLoss, etaSeconds: Math.round(eta) } });
        },
        onFold: () => {
          foldSeconds.push((performance.now() - foldStarted) / 1000);
        },
      });
      if (evaluated) {
        threshold = evaluated.decision.threshold;
        result = { metrics: [evaluated.metrics, run.calibration.metrics], decision: evaluated.decision, outOfFold: evaluated.outOfFold, noHeldOutReason: null };
      } else {
        result.noHeldOutReason = `${evaluation} evaluation had no usable fold (each fold needs both classes among its training rows and its scores)`;
      }
    }
    return {
      result: {
        artifact: run.artifact,
        backend: run.fit.backend,
        curve: run.curve,
        fitSeconds,
        bestEpoch: run.fit.bestEpoch,
        trainEmbeddings: run.trainEmbeddings,
        threshold,
        distanceScale: run.distanceScale,
        evaluation: result,
        lastProgress: last,
      },
      embed: (items) => embedItems(run.model, items),
      dispose: () => run.model.dispose(),
    };
  } catch (error) {
    run.model.dispose();
    throw error;
  }
}
