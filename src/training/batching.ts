/**
 * Which pairs train and which validate, and how an epoch is cut into in-batch steps.
 *
 * Validation modes (knagcn.md §5 leakage warning):
 * - 'pairs': the paper's protocol — 10 % of the unordered crystal pairs validate, the rest train;
 *   nearly every crystal is seen in training, so this measures interpolation. Self-pairs {i, i}
 *   are never counted (the paper's n² pairs include them; their loss is 0, so they would only
 *   dilute the validation mean).
 * - 'crystals': 10 % of crystals (stratified by label) are held out; training uses only pairs of
 *   training crystals, validation every pair that touches a held-out crystal.
 * - 'explicit': like 'crystals' with the caller's held-out indices.
 * - 'none': no validation, no early stopping (runs maxEpochs).
 */
import { BadInputError } from '../errors.js';
import { mulberry32, shuffled, type Random } from '../model/random.js';
import { stratifiedHoldOut } from './splits.js';

export type ValidationSpec =
  | { mode: 'pairs'; fraction?: number }
  | { mode: 'crystals'; fraction?: number }
  | { mode: 'explicit'; validationCrystals: readonly number[] }
  | { mode: 'none' };

export const DEFAULT_VALIDATION_FRACTION = 0.1;

export interface PairPlan {
  n: number;
  /** Crystals that appear in training steps. */
  trainCrystals: number[];
  /** Crystals whose embeddings the validation loss needs. */
  validationCrystals: number[];
  /** Held-out crystals (crystal modes): their own CE validates CROSS_ENTROPY/JOINT. */
  heldOutCrystals: number[];
  /** Unordered pair (a < b) → 1 train, 2 validation, 0 unused; index a·n + b. */
  pairRole: Uint8Array;
  trainPairCount: number;
  validationPairCount: number;
}

export const PAIR_UNUSED = 0;
export const PAIR_TRAIN = 1;
export const PAIR_VALIDATION = 2;

export function planPairs(labels: ArrayLike<number>, spec: ValidationSpec, seed: number): PairPlan {
  const n = labels.length;
  const pairRole = new Uint8Array(n * n);
  const random = mulberry32((seed ^ 0x5eed) >>> 0);
  const all = Array.from({ length: n }, (_, i) => i);
  let trainPairCount = 0;
  let validationPairCount = 0;
  if (spec.mode === 'pairs' || spec.mode === 'none') {
    const fraction = spec.mode === 'pairs' ? (spec.fraction ?? DEFAULT_VALIDATION_FRACTION) : 0;
    if (!(fraction >= 0 && fraction < 1)) throw new BadInputError(`validation fraction must be in [0, 1), got ${fraction}`);
    const pairs: number[] = [];
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) pairs.push(a * n + b);
    const order = shuffled(pairs, random);
    const nValidation = Math.round(order.length * fraction);
    order.forEach((p, r) => {
      pairRole[p] = r < nValidation ? PAIR_VALIDATION : PAIR_TRAIN;
    });
    validationPairCount = nValidation;
    trainPairCount = order.length - nValidation;
    return { n, trainCrystals: all, validationCrystals: nValidation > 0 ? all : [], heldOutCrystals: [], pairRole, trainPairCount, validationPairCount };
  }
  let heldOut: number[];
  if (spec.mode === 'crystals') {
    const fraction = spec.fraction ?? DEFAULT_VALIDATION_FRACTION;
    if (!(fraction > 0 && fraction < 1)) throw new BadInputError(`validation fraction must be in (0, 1), got ${fraction}`);
    heldOut = stratifiedHoldOut(labels, fraction, random, { keepTwoPerClass: true });
  } else {
    heldOut = [...new Set(spec.validationCrystals)].sort((a, b) => a - b);
    if (heldOut.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) throw new BadInputError('validation crystal index out of range');
  }
  const isHeldOut = new Uint8Array(n);
  for (const i of heldOut) isHeldOut[i] = 1;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      if (isHeldOut[a] || isHeldOut[b]) {
        pairRole[a * n + b] = PAIR_VALIDATION;
        validationPairCount++;
      } else {
        pairRole[a * n + b] = PAIR_TRAIN;
        trainPairCount++;
      }
    }
  }
  return {
    n,
    trainCrystals: all.filter((i) => !isHeldOut[i]),
    validationCrystals: heldOut.length > 0 ? all : [],
    heldOutCrystals: heldOut,
    pairRole,
    trainPairCount,
    validationPairCount,
  };
}

/** A training step: crystals to embed, and which of their in-batch pairs it scores. */
export interface Step {
  crystals: number[];
  /** [B·B] 0/1, row-major over `crystals`: the training pairs this step owns (each once, a < b). */
  pairMask: Float32Array;
  pairCount: number;
}

/** Splits `items` into `parts` chunks of near-equal size (sizes differ by at most 1). */
function evenChunks<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = Math.floor(items.length / parts) + (p < items.length % parts ? 1 : 0);
    out.push(items.slice(start, start + size));
    start += size;
  }
  return out;
}

function maskFor(crystals: number[], plan: PairPlan, owns: (u: number, v: number) => boolean): { pairMask: Float32Array; pairCount: number } {
  const B = crystals.length;
  const pairMask = new Float32Array(B * B);
  let pairCount = 0;
  for (let u = 0; u < B; u++) {
    for (let v = u + 1; v < B; v++) {
      const a = Math.min(crystals[u]!, crystals[v]!);
      const b = Math.max(crystals[u]!, crystals[v]!);
      if (plan.pairRole[a * plan.n + b] === PAIR_TRAIN && owns(u, v)) {
        pairMask[u * B + v] = 1;
        pairCount++;
      }
    }
  }
  return { pairMask, pairCount };
}

/**
 * The steps of one epoch (seeded by `random`):
 * - 'shuffled-batches': shuffled training crystals in ⌈n / batchSize⌉ near-equal batches; each
 *   step scores all its in-batch training pairs.
 * - 'block-pairs' (knagcn.md §7.3): blocks of ⌈batchSize / 2⌉; one step per block pair P ≤ Q
 *   scoring the P×Q pairs (or the pairs within P), so each training pair is scored exactly once.
 */
export function epochSteps(plan: PairPlan, schedule: 'shuffled-batches' | 'block-pairs', batchSize: number, random: Random): Step[] {
  const order = shuffled(plan.trainCrystals, random);
  if (schedule === 'shuffled-batches') {
    const batches = evenChunks(order, Math.max(1, Math.ceil(order.length / batchSize)));
    return batches.map((crystals) => ({ crystals, ...maskFor(crystals, plan, () => true) }));
  }
  const blockSize = Math.max(1, Math.ceil(batchSize / 2));
  const blocks = evenChunks(order, Math.max(1, Math.ceil(order.length / blockSize)));
  const steps: Step[] = [];
  for (let p = 0; p < blocks.length; p++) {
    for (let q = p; q < blocks.length; q++) {
      if (p === q) {
        const crystals = blocks[p]!;
        steps.push({ crystals, ...maskFor(crystals, plan, () => true) });
      } else {
        const crystals = [...blocks[p]!, ...blocks[q]!];
        const split = blocks[p]!.length;
        steps.push({ crystals, ...maskFor(crystals, plan, (u, v) => u < split && v >= split) });
      }
    }
  }
  return shuffled(steps, random);
}
