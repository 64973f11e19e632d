/**
 * Siamese training of the k-NAGCN embedder (knagcn.md §5, §7.3).
 *
 * Each step embeds its crystals once (BatchNorm in training mode, statistics over the step's atoms)
 * and scores every in-batch training pair with the contrastive loss; CROSS_ENTROPY trains the same
 * backbone with a 2-class head, JOINT sums both. Adam; early stopping on the validation loss after
 * `patience` epochs without improvement; the best epoch's weights (and BN statistics) are restored.
 * Everything random (initialisers, splits, shuffles) derives from `hyperparameters.seed`.
 */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { initBackend, type BackendPreference } from '../model/backend.js';
import { createModel, forward, updateMovingStatistics, type BatchStatistics, type KnagcnModel } from '../model/backbone.js';
import { makeGraphBatch } from '../model/batch.js';
import { classifyStructures, embedStructures } from '../model/embed.js';
import { resolveHyperparameters, type Hyperparameters } from '../model/hyperparameters.js';
import { mulberry32 } from '../model/random.js';
import { epochSteps, planPairs, PAIR_VALIDATION, type PairPlan, type ValidationSpec } from './batching.js';
import { contrastivePairLoss, crossEntropyHost, crossEntropyLoss, pairLossHost } from './loss.js';

export type BinaryLabel = 0 | 1;

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  /** NaN when there is no validation set. */
  validationLoss: number;
}

export interface EpochProgress extends EpochPoint {
  maxEpochs: number;
  bestEpoch: number;
  bestValidationLoss: number;
  elapsedMs: number;
  atomsPerSecond: number;
}

export interface FitOptions {
  /** Default { mode: 'crystals', fraction: 0.1 } (leakage-free; 'pairs' reproduces the paper). */
  validation?: ValidationSpec;
  onEpoch?: (progress: EpochProgress) => void | Promise<void>;
  signal?: AbortSignal;
  backend?: BackendPreference;
}

export interface FitResult {
  model: KnagcnModel;
  curve: EpochPoint[];
  /** 1-based epoch whose weights were kept (the last one without validation). */
  bestEpoch: number;
  backend: string;
  hyperparameters: Hyperparameters;
  trainPairCount: number;
  validationPairCount: number;
  heldOutCrystals: number[];
}

function validateInputs(graphs: readonly CrystalGraph[], labels: ArrayLike<number>, h: Hyperparameters): void {
  if (graphs.length !== labels.length) throw new BadInputError(`${graphs.length} graphs but ${labels.length} labels`);
  let fast = 0;
  let poor = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) fast++;
    else if (labels[i] === 0) poor++;
    else throw new BadInputError(`label ${i} must be 0 (POOR) or 1 (FAST), got ${labels[i]}`);
  }
  if (fast < 2 || poor < 2) throw new BadInputError(`training needs at least 2 FAST and 2 POOR crystals, got ${fast} FAST and ${poor} POOR`, { fast, poor });
  graphs.forEach((g, i) => {
    if (g.k !== h.k) throw new BadInputError(`graph ${i} was built with k = ${g.k}, hyperparameters say k = ${h.k}`);
  });
}

/** Validation loss on the host from inference-mode embeddings (and class probabilities). */
function validationLoss(model: KnagcnModel, graphs: readonly CrystalGraph[], labels: ArrayLike<number>, plan: PairPlan): number {
  const h = model.hyperparameters;
  if (plan.validationCrystals.length === 0) return NaN;
  let loss = 0;
  if (h.objective !== 'CROSS_ENTROPY') {
    const embeddings = embedStructures(model, graphs, { batchSize: 64 });
    let sum = 0;
    for (let a = 0; a < plan.n; a++) {
      for (let b = a + 1; b < plan.n; b++) {
        if (plan.pairRole[a * plan.n + b] !== PAIR_VALIDATION) continue;
        sum += pairLossHost(embeddings[a]!, embeddings[b]!, labels[a] !== labels[b], h);
      }
    }
    loss += sum / plan.validationPairCount;
  }
  if (h.objective !== 'CONTRASTIVE') {
    const held = plan.heldOutCrystals;
    const p = classifyStructures(model, held.map((i) => graphs[i]!), { batchSize: 64 });
    const ce = held.reduce((acc, i, r) => acc + crossEntropyHost(p[r]!, labels[i]!), 0) / held.length;
    loss += (h.objective === 'JOINT' ? h.crossEntropyWeight : 1) * ce;
  }
  return loss;
}

function snapshot(model: KnagcnModel): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of [...model.trainable, ...model.state]) out.set(name, tf.clone(v));
  return out;
}

function restore(model: KnagcnModel, saved: Map<string, tf.Tensor>): void {
  for (const [name, v] of [...model.trainable, ...model.state]) v.assign(saved.get(name)!);
}

function disposeSnapshot(saved: Map<string, tf.Tensor> | undefined): void {
  if (saved) for (const t of saved.values()) t.dispose();
}

/**
 * Trains a model on `graphs` with binary `labels` (1 = FAST, 0 = POOR).
 * Throws BadInputError for unusable input, an Error naming the epoch on a NaN/∞ loss, and the
 * signal's reason when aborted.
 */
export async function fit(
  graphs: readonly CrystalGraph[],
  labels: ArrayLike<number>,
  hyperparameters: Partial<Hyperparameters> = {},
  options: FitOptions = {},
): Promise<FitResult> {
  const h = resolveHyperparameters(hyperparameters);
  validateInputs(graphs, labels, h);
  const spec: ValidationSpec = options.validation ?? { mode: 'crystals', fraction: 0.1 };
  if (h.objective !== 'CONTRASTIVE' && spec.mode === 'pairs') {
    throw new BadInputError(`objective ${h.objective} needs held-out crystals: use validation mode 'crystals', 'explicit' or 'none'`);
  }
  const backend = await initBackend(options.backend ?? 'auto');
  options.signal?.throwIfAborted();

  const plan = planPairs(labels, spec, h.seed);
  if (h.objective !== 'CROSS_ENTROPY' && plan.trainPairCount === 0) throw new BadInputError('no training pairs');
  const model = createModel(h, undefined, { trainedOnBackend: backend.name });
  const optimizer = tf.train.adam(h.learningRate, 0.9, 0.999, 1e-7);
  const random = mulberry32(h.seed >>> 0);
  const variables = [...model.trainable.values()];
  const curve: EpochPoint[] = [];
  let best: Map<string, tf.Tensor> | undefined;
  let bestEpoch = 0;
  let bestValidationLoss = Infinity;
  const started = performance.now();
  let atomsTrained = 0;

  try {
    for (let epoch = 1; epoch <= h.maxEpochs; epoch++) {
      let lossSum = 0;
      let weightSum = 0;
      for (const step of epochSteps(plan, h.schedule, h.batchSize, random)) {
        options.signal?.throwIfAborted();
        const needPairs = h.objective !== 'CROSS_ENTROPY';
        if (needPairs && step.pairCount === 0 && h.objective === 'CONTRASTIVE') continue;
        const stepGraphs = step.crystals.map((i) => graphs[i]!);
        const stepLabels = step.crystals.map((i) => labels[i]!);
        const batch = makeGraphBatch(stepGraphs, h.k, h.gaussian);
        const statistics: BatchStatistics = new Map();
        try {
          const cost = optimizer.minimize(
            () => {
              statistics.clear();
              const out = forward(model, batch, statistics);
              let loss: tf.Scalar = tf.scalar(0);
              if (h.objective !== 'CROSS_ENTROPY' && step.pairCount > 0) {
                loss = contrastivePairLoss(out.embedding, stepLabels, step.pairMask, h);
              }
              if (h.objective !== 'CONTRASTIVE') {
                const ce = crossEntropyLoss(out.logits!, stepLabels);
                loss = tf.add(loss, h.objective === 'JOINT' ? tf.mul(ce, h.crossEntropyWeight) : ce) as tf.Scalar;
              }
              return loss;
            },
            true,
            variables,
          );
          const value = cost!.dataSync()[0]!;
          cost!.dispose();
          if (!Number.isFinite(value)) {
            throw new Error(`training diverged: loss is ${value} at epoch ${epoch} (try a lower learningRate)`);
          }
          updateMovingStatistics(model, statistics);
          const weight = h.objective === 'CROSS_ENTROPY' ? step.crystals.length : step.pairCount;
          lossSum += value * weight;
          weightSum += weight;
          atomsTrained += batch.numAtoms;
        } finally {
          for (const { mean, variance } of statistics.values()) {
            mean.dispose();
            variance.dispose();
          }
          batch.dispose();
        }
        // Yield to the event loop between steps so progress callbacks, aborts and timers run.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const trainLoss = weightSum > 0 ? lossSum / weightSum : NaN;
      const validationLossValue = validationLoss(model, graphs, labels, plan);
      if (Number.isNaN(validationLossValue) && plan.validationCrystals.length > 0) {
        throw new Error(`validation loss is NaN at epoch ${epoch}`);
      }
      curve.push({ epoch, trainLoss, validationLoss: validationLossValue });
      const hasValidation = plan.validationCrystals.length > 0;
      if (!hasValidation || validationLossValue < bestValidationLoss) {
        bestValidationLoss = hasValidation ? validationLossValue : NaN;
        bestEpoch = epoch;
        if (hasValidation) {
          disposeSnapshot(best);
          best = snapshot(model);
        }
      }
      const elapsedMs = performance.now() - started;
      await options.onEpoch?.({
        epoch,
        trainLoss,
        validationLoss: validationLossValue,
        maxEpochs: h.maxEpochs,
        bestEpoch,
        bestValidationLoss,
        elapsedMs,
        atomsPerSecond: atomsTrained / (elapsedMs / 1000),
      });
      if (hasValidation && epoch - bestEpoch >= h.patience) break;
    }
    if (best) restore(model, best);
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    disposeSnapshot(best);
    optimizer.dispose();
  }
  return {
    model,
    curve,
    bestEpoch,
    backend: backend.name,
    hyperparameters: h,
    trainPairCount: plan.trainPairCount,
    validationPairCount: plan.validationPairCount,
    heldOutCrystals: plan.heldOutCrystals,
  };
}
