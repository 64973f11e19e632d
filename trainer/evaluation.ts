/**
 * Held-out metrics for one training configuration (a train_model job with evaluation LOO or
 * GROUP_KFOLD), through the evaluation harness of src/training/evaluate.ts: the same
 * hyperparameters are fitted per fold on the training rows, the test rows are scored by the
 * distance ratio against the training rows, and the threshold is calibrated per fold on the
 * training rows' leave-self-out scores.
 *
 * - GROUP_KFOLD: 5 grouped folds (no reduced formula, and as far as balance allows no family, on
 *   both sides), one seed (the model's). Five extra fits.
 * - LOO: one fit per row. On all rows that is hundreds of fits, so it runs on a stratified random
 *   subset of LOO_MAX_ROWS rows (training rows come from the same subset); the metrics say so.
 *
 * Besides the metrics it returns every out-of-fold score and the model's decision: the threshold
 * that maximises balanced accuracy on the pooled out-of-fold scores, with the precision, recall
 * and false-positive rate measured on them (scores of materials no fold model trained on).
 */
import { BadInputError } from '../src/errors.js';
import { embedStructures, type Hyperparameters } from '../src/model/index.js';
import { readsCompositions } from '../src/model/hyperparameters.js';
import type { TrainingExample } from '../src/services/model-training.js';
import type { EvaluationProtocol, ModelDecision, ModelMetrics, OutOfFoldScore } from '../src/services/models.js';
import { modelDistanceScale, pairwiseDistances, scoresFromDistanceMatrix } from '../src/scoring/index.js';
import { parseComposition } from '../src/structure/index.js';
import { evaluate, type EvaluationMethod } from '../src/training/evaluate.js';
import type { LabelledEntry } from '../src/training/obelix-dataset.js';
import { fit, type EpochProgress, type FitOptions } from '../src/training/train.js';
import { decisionOn, toModelMetrics } from './calibrate.js';
import { trainingGraphs } from '../src/training/every-row.js';

/** Rows of a LOO evaluation (each costs one fit). */
export const LOO_MAX_ROWS = 30;
export const GROUP_KFOLD_FOLDS = 5;

export interface ConfigurationEvaluation {
  metrics: ModelMetrics;
  /** Chosen on the pooled out-of-fold scores. */
  decision: ModelDecision;
  outOfFold: OutOfFoldScore[];
}

export interface EvaluateConfigurationOptions {
  signal?: AbortSignal;
  /** Before each fold's fit: (fold, total), fold 1-based. */
  onFoldStart?: (fold: number, total: number) => void;
  /** After each epoch of a fold's fit. */
  onEpoch?: (fold: number, total: number, progress: EpochProgress) => void;
  /** After each fold (fitted or skipped): (done, total). */
  onFold?: (done: number, total: number) => void | Promise<void>;
  validation?: FitOptions['validation'];
}

function toEntry(example: TrainingExample): LabelledEntry {
  return {
    id: example.materialId,
    formula: example.formula,
    amounts: parseComposition(example.formula).amounts,
    label: example.label,
    conductivitySPerCm: null,
    family: example.family,
    cifFormula: null,
    hasStructure: example.structure !== null,
    structure: example.structure,
  };
}

/** The configuration as an evaluation method: fit on the fold's training rows, score its test rows. */
function configurationMethod(h: Hyperparameters, opts: EvaluateConfigurationOptions, fold: () => { index: number; total: number }): EvaluationMethod {
  return {
    name: 'configuration',
    requiresStructure: !readsCompositions(h),
    async run({ train, test }) {
      opts.signal?.throwIfAborted();
      const { graphs: trainGraphs, fitGraphs, fitLabels } = await trainingGraphs(train, train.map((e) => e.label), h, opts.signal);
      const testGraphs = (await trainingGraphs(test, test.map((e) => e.label), { ...h, compositionViews: false }, opts.signal)).graphs;
      const { index, total } = fold();
      const result = await fit(fitGraphs, fitLabels, h, {
        signal: opts.signal,
        validation: opts.validation,
        onEpoch: (p) => opts.onEpoch?.(index, total, p),
      });
      try {
        const all = [...embedStructures(result.model, trainGraphs), ...embedStructures(result.model, testGraphs)];
        const n = all.length;
        const trainIdx = train.map((_, i) => i);
        const testIdx = test.map((_, j) => train.length + j);
        const fast = trainIdx.filter((i) => train[i]!.label === 1);
        const poor = trainIdx.filter((i) => train[i]!.label === 0);
        const matrix = pairwiseDistances(all, h.distance);
        // The fold's model gets its own scale, from its own training rows, as a trained model does.
        const distanceScale = modelDistanceScale(all.slice(0, train.length), h);
        return [
          {
            variant: 'configuration',
            testScores: scoresFromDistanceMatrix(matrix, n, testIdx, fast, poor, { distanceScale }).map((r) => r.score),
            calibrationScores: scoresFromDistanceMatrix(matrix, n, trainIdx, fast, poor, { excludeSelf: true, distanceScale }).map((r) => r.score),
            defaultThreshold: 1,
          },
        ];
      } finally {
        result.model.dispose();
      }
    },
  };
}

/** Held-out metrics of `h` on the examples, or null when no fold could be evaluated. */
export async function evaluateConfiguration(
  examples: readonly TrainingExample[],
  h: Hyperparameters,
  protocol: Exclude<EvaluationProtocol, 'NONE'>,
  opts: EvaluateConfigurationOptions = {},
): Promise<ConfigurationEvaluation | null> {
  const entries = examples.map(toEntry);
  const limit = protocol === 'LOO' && entries.length > LOO_MAX_ROWS ? LOO_MAX_ROWS : undefined;
  let folds = 0;
  const total = protocol === 'LOO' ? (limit ?? entries.length) : GROUP_KFOLD_FOLDS;
  let current = 0;
  const report = await evaluate(entries, {
    protocol,
    folds: GROUP_KFOLD_FOLDS,
    seeds: [h.seed],
    limit,
    methods: [configurationMethod(h, opts, () => ({ index: current, total }))],
    onProgress: (event) => {
      if (event.kind === 'unit-start') {
        current = event.unit;
        opts.onFoldStart?.(current, total);
      }
      if (event.kind === 'unit-done' || event.kind === 'skip') {
        folds++;
        void opts.onFold?.(folds, total);
      }
    },
  }).catch((error: unknown) => {
    if (error instanceof BadInputError) return null;
    throw error;
  });
  const seedResult = report?.variants[0]?.perSeed[0];
  if (!report || !seedResult) return null;
  const thresholds = [...seedResult.atCalibrated.thresholds].sort((a, b) => a - b);
  const medianThreshold = thresholds[Math.floor((thresholds.length - 1) / 2)]!;
  const notes = [
    protocol === 'LOO' && limit !== undefined ? `LOO on a stratified random subset of ${limit} of ${entries.length} rows` : null,
    report.skipped.length > 0 ? `${report.skipped.length} fold(s) skipped: ${report.skipped[0]!.reason}` : null,
    'accuracy/sensitivity/specificity at each fold\'s threshold calibrated on its training rows; threshold = their median',
  ].filter((x): x is string => x !== null);
  const c = seedResult.atCalibrated;
  const oofLabels = seedResult.scores.map((r) => r.label);
  const oofScores = seedResult.scores.map((r) => r.score);
  if (!oofLabels.includes(0) || !oofLabels.includes(1)) return null;
  return {
    metrics: toModelMetrics(
      protocol,
      {
        accuracy: c.accuracy,
        sensitivity: c.sensitivity,
        specificity: c.specificity,
        balancedAccuracy: c.balancedAccuracy,
        rocAuc: seedResult.rocAuc,
        prAuc: seedResult.prAuc,
        threshold: medianThreshold,
        n: seedResult.n,
      },
      { note: notes.join('; '), folds: report.folds, seeds: [h.seed], source: `trainModel (evaluation ${protocol})` },
    ),
    decision: decisionOn(protocol, oofScores, oofLabels),
    outOfFold: seedResult.scores.map((r) => ({ materialId: r.id, label: r.label === 1 ? 'FAST' : 'POOR', score: r.score, fold: r.fold })),
  };
}
