/**
 * Siamese training of the k-NAGCN embedder (knagcn.md §5, §7.3).
 *
 * Each step embeds its crystals once (BatchNorm in training mode, statistics over the step's atoms)
 * and scores every in-batch training pair with the contrastive loss; CROSS_ENTROPY trains the same
 * backbone with a 2-class head, JOINT sums both. Adam; early stopping on the validation loss after
 * `patience` epochs without improvement; the best epoch's weights (and BN statistics) are restored.
 * Everything random (initialisers, splits, shuffles) derives from `hyperparameters.seed`.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { BadInputError, TrainingDivergedError } from '../errors.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { backendLabel, initBackend, type BackendPreference } from '../model/backend.js';
import { setBlasThreads } from '../model/native.js';
import { createModel, updateMovingStatistics, type BatchStatistics, type KnagcnModel } from '../model/backbone.js';
import { classifyStructures, embedStructures } from '../model/embed.js';
import { resolveHyperparameters, type Hyperparameters } from '../model/hyperparameters.js';
import { mulberry32 } from '../model/random.js';
import { epochSteps, planPairs, PAIR_VALIDATION, type PairPlan, type Step, type ValidationSpec } from './batching.js';
import { crossEntropyHost, pairLossHost } from './loss.js';
import { ParallelTrainer, type StepOutcome } from './parallel.js';
import { shardGradients } from './step.js';

import type { BinaryLabel } from '../domain.js';

export type { BinaryLabel };

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
  /**
   * Model threads. 'auto' (default): on wasm with the native kernels, 1 model thread whose OpenBLAS
   * products use every core (faster than data parallelism here, and BatchNorm sees the whole batch);
   * on wasm without them, 2 when the machine has ≥ 2 cores and the data has ≥ 4,000 atoms (below
   * that the worker's start-up costs more than it saves), else 1. Native backends thread internally
   * and always use 1. With 2 threads each step's BatchNorm statistics are per half-batch, so
   * results differ slightly from 1 thread (each is deterministic). An explicit 1 or 2 keeps OpenBLAS
   * on one thread per model thread.
   */
  threads?: 1 | 2 | 'auto';
}

/** Atoms below which 'auto' stays single-threaded. */
const PARALLEL_MIN_ATOMS = 4000;

export interface FitResult {
  model: KnagcnModel;
  curve: EpochPoint[];
  /** 1-based epoch whose weights were kept (the last one without validation). */
  bestEpoch: number;
  backend: string;
  threads: 1 | 2;
  /** Threads each OpenBLAS product used (1 without the native kernels). */
  blasThreads: number;
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

/**
 * Inference-mode embeddings in chunks, yielding to the event loop between them: one synchronous
 * pass over every crystal can outlast a job's lease on a busy machine (the heartbeat that renews
 * it runs on this event loop). Inference is per crystal, so chunking does not change the result.
 */
async function embedYielding(model: KnagcnModel, graphs: readonly CrystalGraph[], batchSize: number): Promise<Float32Array[]> {
  const embeddings: Float32Array[] = [];
  for (let start = 0; start < graphs.length; start += batchSize) {
    embeddings.push(...embedStructures(model, graphs.slice(start, start + batchSize), { batchSize }));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return embeddings;
}

/** Validation loss on the host from inference-mode embeddings (and class probabilities). */
async function validationLoss(
  model: KnagcnModel,
  graphs: readonly CrystalGraph[],
  labels: ArrayLike<number>,
  plan: PairPlan,
  embedAll: () => Promise<Float32Array[]>,
): Promise<number> {
  const h = model.hyperparameters;
  if (plan.validationCrystals.length === 0) return NaN;
  let loss = 0;
  if (h.objective !== 'CROSS_ENTROPY') {
    const embeddings = await embedAll();
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

/** A step on this thread alone: one shard holding every crystal. */
function singleThreadStep(model: KnagcnModel, graphs: readonly CrystalGraph[], step: Step, labels: ArrayLike<number>): StepOutcome {
  const r = shardGradients(model, graphs, {
    own: step.crystals,
    other: [],
    labels: step.crystals.map((c) => labels[c]!),
    pairMask: step.pairMask,
    pairNormaliser: step.pairCount,
    crystalNormaliser: step.crystals.length,
  });
  const statistics = new Map<string, { mean: Float32Array; variance: Float32Array; count: number }>();
  for (const [name, s] of r.statistics) {
    statistics.set(name, { mean: s.mean.dataSync() as Float32Array, variance: s.variance.dataSync() as Float32Array, count: s.count });
    s.mean.dispose();
    s.variance.dispose();
  }
  return { grads: r.grads, loss: r.loss, atoms: r.atoms, statistics };
}

function applyStatistics(model: KnagcnModel, statistics: StepOutcome['statistics']): void {
  const tensors: BatchStatistics = new Map();
  for (const [name, s] of statistics) tensors.set(name, { mean: tf.tensor1d(s.mean), variance: tf.tensor1d(s.variance), count: s.count });
  updateMovingStatistics(model, tensors);
}

function snapshot(model: KnagcnModel): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of [...model.trainable, ...model.state]) out.set(name, tf.clone(v));
  return out;
}

function restore(model: KnagcnModel, saved: Map<string, tf.Tensor>): void {
  for (const [name, v] of [...model.trainable, ...model.state]) v.assign(saved.get(name)!);
}

/**
 * Throws TrainingDivergedError naming the first variable with a NaN/∞ entry. One host read per
 * variable per epoch: a diverged step can leave finite losses but non-finite weights behind (its
 * own loss was computed before the update), which would otherwise surface only as NaN embeddings.
 */
function assertFiniteWeights(model: KnagcnModel, epoch: number, phase = ''): void {
  for (const [name, v] of [...model.trainable, ...model.state]) {
    const values = v.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) {
        throw new TrainingDivergedError(`training diverged: weights ${name} are not finite after ${phase}epoch ${epoch} (try a lower learningRate)`, {
          epoch,
          variable: name,
        });
      }
    }
  }
}

function disposeSnapshot(saved: Map<string, tf.Tensor> | undefined): void {
  if (saved) for (const t of saved.values()) t.dispose();
}

/**
 * Trains a model on `graphs` with binary `labels` (1 = FAST, 0 = POOR).
 * Throws BadInputError for unusable input, TrainingDivergedError (naming the epoch and step) on a
 * NaN/∞ loss or weights, and the signal's reason when aborted.
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
  const model = createModel(h, undefined, { trainedOnBackend: backendLabel(backend) });
  const totalAtoms = graphs.reduce((a, g) => a + g.numAtoms, 0);
  const requested = options.threads ?? 'auto';
  const openBlas = backend.matMul?.name === 'openblas';
  const threads: 1 | 2 =
    backend.name !== 'wasm' || (openBlas && requested === 'auto')
      ? 1
      : requested === 'auto'
        ? availableParallelism() >= 2 && totalAtoms >= PARALLEL_MIN_ATOMS ? 2 : 1
        : requested;
  const blasThreads = openBlas && requested === 'auto' ? availableParallelism() : 1;
  const previousBlasThreads = setBlasThreads(blasThreads);
  const optimizer = tf.train.adam(h.learningRate, 0.9, 0.999, 1e-7);
  const random = mulberry32(h.seed >>> 0);
  const variableName = new Map([...model.trainable].map(([name, v]) => [name, v.name]));
  const allCrystals = graphs.map((_, i) => i);
  const curve: EpochPoint[] = [];
  let best: Map<string, tf.Tensor> | undefined;
  let bestEpoch = 0;
  let bestValidationLoss = Infinity;
  const started = performance.now();
  let atomsTrained = 0;
  let parallel: ParallelTrainer | undefined;

  try {
    if (threads === 2) parallel = await ParallelTrainer.start(model, graphs);
    const embedAll = () => (parallel ? parallel.embed(model, allCrystals) : embedYielding(model, graphs, 64));
    /** One pass over `steps`: returns the epoch's mean training loss. */
    /** `phase`: '' for the joint epochs, 'composition warm-up ' for the warm-up (error messages name it). */
    const runEpoch = async (steps: Step[], epoch: number, phase: string): Promise<number> => {
      let lossSum = 0;
      let weightSum = 0;
      let stepNumber = 0;
      for (const step of steps) {
        stepNumber++;
        options.signal?.throwIfAborted();
        if (h.objective === 'CONTRASTIVE' && step.pairCount === 0) continue;
        const useBoth = parallel !== undefined && step.crystals.length >= 4;
        const outcome = useBoth ? await parallel!.step(model, step, labels) : singleThreadStep(model, graphs, step, labels);
        try {
          if (!Number.isFinite(outcome.loss)) {
            throw new TrainingDivergedError(
              `training diverged: loss is ${outcome.loss} at ${phase}epoch ${epoch}, step ${stepNumber} (try a lower learningRate)`,
              { epoch, step: stepNumber, value: outcome.loss },
            );
          }
          const named: tf.NamedTensorMap = {};
          for (const [name, g] of outcome.grads) named[variableName.get(name)!] = g;
          optimizer.applyGradients(named as tf.NamedTensorMap as Parameters<typeof optimizer.applyGradients>[0]);
        } finally {
          for (const g of outcome.grads.values()) g.dispose();
        }
        applyStatistics(model, outcome.statistics);
        const weight = h.objective === 'CROSS_ENTROPY' ? step.crystals.length : step.pairCount;
        lossSum += outcome.loss * weight;
        weightSum += weight;
        atomsTrained += outcome.atoms;
        // Yield to the event loop between steps so progress callbacks, aborts and timers run.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return weightSum > 0 ? lossSum / weightSum : NaN;
    };

    // Warm-up of the composition pathway on the composition-only rows alone: they cost no graph
    // work, and the pathway needs far more epochs than the graph network can be given
    // (docs/RESULTS.md, "Composition warm-up").
    const compositionPlan: PairPlan = { ...plan, trainCrystals: plan.trainCrystals.filter((i) => graphs[i]!.numAtoms === 0) };
    if (h.compositionEpochs > 0 && compositionPlan.trainCrystals.length >= 2) {
      for (let epoch = 1; epoch <= h.compositionEpochs; epoch++) {
        await runEpoch(epochSteps(compositionPlan, h.schedule, h.batchSize, random), epoch, 'composition warm-up ');
        assertFiniteWeights(model, epoch, 'composition warm-up ');
      }
    }

    for (let epoch = 1; epoch <= h.maxEpochs; epoch++) {
      const trainLoss = await runEpoch(epochSteps(plan, h.schedule, h.batchSize, random), epoch, '');
      assertFiniteWeights(model, epoch);
      const validationLossValue = await validationLoss(model, graphs, labels, plan, embedAll);
      if (!Number.isFinite(validationLossValue) && plan.validationCrystals.length > 0) {
        throw new TrainingDivergedError(`training diverged: validation loss is ${validationLossValue} at epoch ${epoch} (try a lower learningRate)`, {
          epoch,
          value: validationLossValue,
        });
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
    await parallel?.terminate();
    setBlasThreads(previousBlasThreads);
  }
  return {
    model,
    curve,
    bestEpoch,
    backend: backendLabel(backend),
    threads,
    blasThreads,
    hyperparameters: h,
    trainPairCount: plan.trainPairCount,
    validationPairCount: plan.validationPairCount,
    heldOutCrystals: plan.heldOutCrystals,
  };
}
