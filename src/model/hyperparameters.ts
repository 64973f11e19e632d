/**
 * Model and training hyperparameters (one place). Validated once; artifacts store them verbatim.
 */
import { BadInputError } from '../errors.js';
import { CGCNN_GAUSSIAN_BASIS, type GaussianBasis } from '../features/gaussian-basis.js';
import type { CrystalGraphOptions } from '../graph/crystal-graph.js';

import type { DistanceMetric } from '../domain.js';

export type { DistanceMetric };
export type TrainingObjective = 'CONTRASTIVE' | 'CROSS_ENTROPY' | 'JOINT';
/**
 * 'knagcn-joint': knagcn.md §3.2 — one linear map over [h_i ‖ t_1 ‖ … ‖ t_K] per atom
 * (implemented multiply-before-gather, which is exactly the same function). Neighbours sit in
 * sorted-distance slots cut at exactly k, so the embedding jumps where distances tie or cross the
 * k-th place (most symmetric crystals, and any noise on them): the paper's literal reading, kept
 * as preset PAPER.
 * 'knagcn-smooth': every atom takes the weighted mean of gated messages from its smooth k-nearest
 * neighbourhood (src/graph/smooth-neighbours.ts) — invariant to site order and cell choice and
 * continuous in the positions by construction. The default.
 */
export type BackboneName = 'knagcn-joint' | 'knagcn-smooth';
/**
 * How an epoch is cut into steps (every step embeds each of its crystals once and scores all
 * in-batch training pairs):
 * - 'shuffled-batches': each training crystal appears once per epoch, in seeded random batches of
 *   `batchSize` crystals. Cheapest (one forward/backward per crystal per epoch); every pair is
 *   scored with probability ≈ batchSize/n per epoch and all pairs over the run.
 * - 'block-pairs': knagcn.md §7.3 — blocks of `batchSize/2` crystals, every block pair (P ≤ Q)
 *   once per epoch, so every training pair is scored exactly once per epoch (≈ n/b× the work).
 */
export type PairSchedule = 'shuffled-batches' | 'block-pairs';

export interface Hyperparameters {
  backbone: BackboneName;
  /** Neighbours per atom (paper: 4, 8, 12). */
  k: number;
  /** Graph-convolution layers. */
  layers: number;
  /** Hidden width F of the atom vectors. */
  featureLength: number;
  /** Width of the first dense layer after pooling. */
  denseLength: number;
  /** Embedding size E. */
  embeddingDim: number;
  /** Contrastive margin m (in distance units). */
  margin: number;
  distance: DistanceMetric;
  objective: TrainingObjective;
  /** Weight of the cross-entropy term in JOINT. */
  crossEntropyWeight: number;
  maxEpochs: number;
  /** Epochs without validation improvement before stopping. */
  patience: number;
  learningRate: number;
  /** Crystals per step. */
  batchSize: number;
  schedule: PairSchedule;
  /** BatchNorm moving-average momentum (TF.js convention: new = m·old + (1 − m)·batch). */
  batchNormMomentum: number;
  /** Distance expansion of the per-slot geometry. */
  gaussian: GaussianBasis;
  /**
   * Join the cell's composition descriptors (81 Magpie-like statistics, batch-normalised) to the
   * pooled crystal vector before the dense layers. Off in the paper preset.
   */
  compositionDescriptors: boolean;
  /** 'knagcn-smooth': width of the weight fall-off beyond each atom's k-th neighbour distance (Å). */
  marginAngstrom: number;
  /**
   * Independently initialised networks trained side by side on the same batches (loss = mean of
   * their losses). The embedding joins the members' embeddings, each scaled by 1/√members, so a
   * Euclidean distance is the root mean square of the members' distances; P(FAST) averages their
   * logits. Averages out the seed: two retrains rank candidates alike.
   */
  members: number;
  /**
   * Also train on a composition-only copy of every labelled structure (knagcn-smooth with
   * composition descriptors): the composition pathway learns from all labelled rows, so materials
   * known only by their formula embed into the same space.
   */
  compositionViews: boolean;
  /**
   * knagcn-smooth: dropout rate on the normalised composition descriptors while training (0 = off).
   * A small-data regulariser: no single descriptor can carry the prediction.
   */
  descriptorDropout: number;
  /**
   * knagcn-smooth with composition descriptors: weight of a training penalty, the mean squared
   * distance between each structure's embedding and the embedding of its formula alone (0 = off).
   * Keeps formula-only materials and structures in one space without an offset between the kinds.
   */
  alignmentWeight: number;
  /**
   * knagcn-smooth with composition descriptors: epochs over the composition-only rows alone before
   * the joint training (0 = none). Cheap (no atoms), and the composition pathway needs far more
   * epochs than the graph network can be given.
   */
  compositionEpochs: number;
  /**
   * The distance ratio averages the bounded distance 1 − exp(−d/s) (src/scoring/score.ts), with the
   * scale s this quantile of the distances between the model's labelled training rows (fixed at
   * training, stored with the model); null = the plain distance d, the paper's reading.
   */
  distanceScaleQuantile: number | null;
  seed: number;
}

/** The contrastive paper's settings (k 12, 3 conv, 2 dense, F 96, Euclidean, patience 15, max 50). */
export const paperHyperparameters: Readonly<Hyperparameters> = Object.freeze({
  backbone: 'knagcn-joint',
  k: 12,
  layers: 3,
  featureLength: 96,
  denseLength: 96,
  embeddingDim: 32,
  margin: 1,
  distance: 'EUCLIDEAN',
  objective: 'CONTRASTIVE',
  crossEntropyWeight: 1,
  maxEpochs: 50,
  patience: 15,
  learningRate: 1e-3,
  batchSize: 32,
  schedule: 'shuffled-batches',
  batchNormMomentum: 0.9,
  gaussian: CGCNN_GAUSSIAN_BASIS,
  compositionDescriptors: false,
  marginAngstrom: 0.5,
  members: 1,
  compositionViews: false,
  descriptorDropout: 0,
  alignmentWeight: 0,
  compositionEpochs: 0,
  distanceScaleQuantile: null,
  seed: 42,
});

/**
 * The paper's backbone trained with cross-entropy, with the composition descriptors joined to the
 * pooled crystal vector (the shipped default until 2026-12-07; preset SLOTS). Grouped 5-fold, five
 * seeds (docs/RESULTS.md, "Composition descriptors"): distance-ratio ROC-AUC 0.788 ± 0.026 on the
 * structure rows. Its slot-ordered neighbours make the embedding jump under noise and site order.
 * `resolveHyperparameters` fills a partial configuration from it, so tests and stored
 * configurations keep their meaning.
 */
export const slotHyperparameters: Readonly<Hyperparameters> = Object.freeze({
  ...paperHyperparameters,
  objective: 'CROSS_ENTROPY',
  compositionDescriptors: true,
});

/**
 * Default training configuration (preset DEFAULT, the shipped model): the invariant backbone
 * (knagcn-smooth) with the composition pathway, trained on every labelled row (structures, formulas,
 * and a formula-only copy of each structure) with cross-entropy, an ensemble of independently
 * initialised members, scored by the distance ratio in the joined embedding space. Chosen by
 * grouped 5-fold validation over all 478 rows (docs/RESULTS.md, "Every row, invariant backbone").
 */
export const trainDefaultHyperparameters: Readonly<Hyperparameters> = Object.freeze({
  ...slotHyperparameters,
  backbone: 'knagcn-smooth',
  featureLength: 64,
  denseLength: 64,
  compositionViews: true,
  alignmentWeight: 1,
  descriptorDropout: 0,
  compositionEpochs: 200,
  distanceScaleQuantile: 0.25,
  members: 3,
  maxEpochs: 30,
  patience: 8,
});

/** Named presets (`ionsieve evaluate --preset`). */
export const HYPERPARAMETER_PRESETS = { paper: paperHyperparameters, slots: slotHyperparameters, default: trainDefaultHyperparameters } as const satisfies Record<string, Readonly<Hyperparameters>>;
export type PresetName = keyof typeof HYPERPARAMETER_PRESETS;

/**
 * Resolves a configuration that was stored earlier (an artifact, a queued job): a field it lacks
 * predates that field, so it takes the value that reproduces the old model, not today's default.
 */
export function resolveStoredHyperparameters(stored: Partial<Hyperparameters>): Hyperparameters {
  return resolveHyperparameters({ compositionDescriptors: false, backbone: 'knagcn-joint', members: 1, compositionViews: false, descriptorDropout: 0, alignmentWeight: 0, compositionEpochs: 0, distanceScaleQuantile: null, ...stored });
}

/**
 * Whether the model embeds materials known only by their composition (the composition pathway of
 * knagcn-smooth); other models embed structures only.
 */
export function readsCompositions(h: Pick<Hyperparameters, 'backbone' | 'compositionDescriptors'>): boolean {
  return h.backbone === 'knagcn-smooth' && h.compositionDescriptors;
}

/** Length of a model's embedding vector (an ensemble joins its members' embeddings). */
export function embeddingWidth(h: Pick<Hyperparameters, 'embeddingDim' | 'members'>): number {
  return h.embeddingDim * h.members;
}

/** How to build a structure's graph for a model with these hyperparameters. */
export function graphOptions(h: Pick<Hyperparameters, 'k' | 'backbone' | 'marginAngstrom'>): CrystalGraphOptions {
  return h.backbone === 'knagcn-smooth' ? { k: h.k, neighbourhood: 'smooth', marginAngstrom: h.marginAngstrom } : { k: h.k };
}

/** Fills what `partial` lacks from `slotHyperparameters` and validates; throws BadInputError naming the bad field. */
export function resolveHyperparameters(partial: Partial<Hyperparameters> = {}): Hyperparameters {
  const h: Hyperparameters = { ...slotHyperparameters, ...partial, gaussian: { ...slotHyperparameters.gaussian, ...partial.gaussian } };
  const positiveInt = (name: keyof Hyperparameters, max: number) => {
    const v = h[name] as number;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new BadInputError(`hyperparameter ${name} must be an integer in 1..${max}, got ${v}`, { [name]: v });
  };
  positiveInt('k', 64);
  positiveInt('layers', 12);
  positiveInt('featureLength', 1024);
  positiveInt('denseLength', 1024);
  positiveInt('embeddingDim', 1024);
  positiveInt('maxEpochs', 100_000);
  positiveInt('patience', 100_000);
  positiveInt('batchSize', 100_000);
  positiveInt('members', 16);
  const positive = (name: keyof Hyperparameters) => {
    const v = h[name] as number;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new BadInputError(`hyperparameter ${name} must be a positive number, got ${v}`, { [name]: v });
  };
  positive('margin');
  positive('learningRate');
  positive('marginAngstrom');
  if (!(h.crossEntropyWeight >= 0)) throw new BadInputError('hyperparameter crossEntropyWeight must be ≥ 0');
  if (!(h.batchNormMomentum >= 0 && h.batchNormMomentum < 1)) throw new BadInputError('hyperparameter batchNormMomentum must be in [0, 1)');
  if (!Number.isInteger(h.seed)) throw new BadInputError(`hyperparameter seed must be an integer, got ${h.seed}`);
  if (h.backbone !== 'knagcn-joint' && h.backbone !== 'knagcn-smooth') throw new BadInputError(`unknown backbone ${h.backbone}`);
  if (h.backbone === 'knagcn-joint' && h.members !== 1) throw new BadInputError('hyperparameter members > 1 needs the knagcn-smooth backbone');
  if (h.distance !== 'EUCLIDEAN' && h.distance !== 'COSINE') throw new BadInputError(`unknown distance ${h.distance}`);
  if (!['CONTRASTIVE', 'CROSS_ENTROPY', 'JOINT'].includes(h.objective)) throw new BadInputError(`unknown objective ${h.objective}`);
  if (h.schedule !== 'shuffled-batches' && h.schedule !== 'block-pairs') throw new BadInputError(`unknown schedule ${h.schedule}`);
  if (!(h.descriptorDropout >= 0 && h.descriptorDropout < 1)) throw new BadInputError(`hyperparameter descriptorDropout must be in [0, 1), got ${h.descriptorDropout}`);
  if (!(Number.isInteger(h.compositionEpochs) && h.compositionEpochs >= 0 && h.compositionEpochs <= 100_000)) throw new BadInputError(`hyperparameter compositionEpochs must be an integer in 0..100000, got ${h.compositionEpochs}`);
  if (h.compositionEpochs > 0 && !readsCompositions(h)) throw new BadInputError('hyperparameter compositionEpochs needs the knagcn-smooth backbone with compositionDescriptors');
  if (!(h.alignmentWeight >= 0 && Number.isFinite(h.alignmentWeight))) throw new BadInputError(`hyperparameter alignmentWeight must be ≥ 0, got ${h.alignmentWeight}`);
  if (typeof h.compositionViews !== 'boolean') throw new BadInputError(`hyperparameter compositionViews must be a boolean, got ${h.compositionViews}`);
  if (h.compositionViews && !readsCompositions(h)) throw new BadInputError('hyperparameter compositionViews needs the knagcn-smooth backbone with compositionDescriptors');
  if (h.distanceScaleQuantile !== null && !(typeof h.distanceScaleQuantile === 'number' && h.distanceScaleQuantile > 0 && h.distanceScaleQuantile < 1)) {
    throw new BadInputError(`hyperparameter distanceScaleQuantile must be null or in (0, 1), got ${h.distanceScaleQuantile}`);
  }
  if (typeof h.compositionDescriptors !== 'boolean') throw new BadInputError(`hyperparameter compositionDescriptors must be a boolean, got ${h.compositionDescriptors}`);
  const g = h.gaussian;
  if (!(g.stepAngstrom > 0 && g.widthAngstrom > 0 && g.dMaxAngstrom > g.dMinAngstrom && g.clampAngstrom > 0)) {
    throw new BadInputError('invalid Gaussian basis');
  }
  return h;
}
