/**
 * One training run on labelled structures, shared by the train_model task and
 * `ionsieve train-default`: crystal graphs → fit → inference-mode embeddings of the training
 * crystals → threshold and TRAIN metrics (calibrate.ts) → portable artifact.
 */
import { TrainingDivergedError } from '../src/errors.js';
import type { CrystalGraph } from '../src/graph/index.js';
import { embedStructures, saveArtifact, type Hyperparameters, type KnagcnModel, type ModelArtifact } from '../src/model/index.js';
import type { CurvePoint } from '../src/services/models.js';
import { trainingGraphs, type MaterialInput } from '../src/training/every-row.js';
import { fit, type EpochProgress, type FitOptions, type FitResult } from '../src/training/train.js';
import type { BinaryLabel } from '../src/training/metrics.js';
import { calibrateOnTrainingSet, type Calibration } from './calibrate.js';
import { modelDistanceScale } from '../src/scoring/index.js';

export interface TrainingRunOptions {
  signal?: AbortSignal;
  onEpoch?: (progress: EpochProgress) => void | Promise<void>;
  validation?: FitOptions['validation'];
  backend?: FitOptions['backend'];
}

export interface TrainingRun {
  model: KnagcnModel;
  fit: FitResult;
  artifact: ModelArtifact;
  curve: CurvePoint[];
  /** Inference-mode embeddings of the training crystals, in input order. */
  trainEmbeddings: Float32Array[];
  calibration: Calibration;
  /** The model's distance scale (src/scoring/score.ts; null: plain distances). */
  distanceScale: number | null;
  graphs: CrystalGraph[];
  fitSeconds: number;
}

/**
 * Trains and calibrates; the caller owns (and must dispose) `model`. `materials` are the labelled
 * materials the model can learn from (every-row.ts `usableForTraining`).
 */
export async function runTraining(
  materials: readonly MaterialInput[],
  labels: readonly BinaryLabel[],
  hyperparameters: Hyperparameters,
  opts: TrainingRunOptions = {},
): Promise<TrainingRun> {
  const { graphs, fitGraphs, fitLabels } = await trainingGraphs(materials, labels, hyperparameters, opts.signal);
  const started = performance.now();
  const result = await fit(fitGraphs, fitLabels, hyperparameters, {
    signal: opts.signal,
    onEpoch: opts.onEpoch,
    validation: opts.validation,
    backend: opts.backend,
  });
  const fitSeconds = (performance.now() - started) / 1000;
  try {
    opts.signal?.throwIfAborted();
    const trainEmbeddings = embedStructures(result.model, graphs, { batchSize: 64 });
    // Finite weights can still overflow float32 in inference; NaN vectors must not reach the store.
    const bad = trainEmbeddings.findIndex((e) => e.some((x) => !Number.isFinite(x)));
    if (bad >= 0) {
      const epoch = result.bestEpoch;
      throw new TrainingDivergedError(`training diverged: the embedding of training crystal ${bad} is not finite (weights of epoch ${epoch})`, { epoch });
    }
    const distanceScale = modelDistanceScale(trainEmbeddings, hyperparameters);
    const calibration = calibrateOnTrainingSet(trainEmbeddings, labels, { metric: hyperparameters.distance, scale: distanceScale });
    return {
      model: result.model,
      fit: result,
      artifact: saveArtifact(result.model),
      curve: result.curve.map((p) => ({ epoch: p.epoch, trainLoss: p.trainLoss, validationLoss: p.validationLoss })),
      trainEmbeddings,
      calibration,
      distanceScale,
      graphs,
      fitSeconds,
    };
  } catch (error) {
    result.model.dispose();
    throw error;
  }
}
