/**
 * In-batch Siamese losses (knagcn.md §5, §7.3). The two towers share weights, so a pair's loss
 * needs only the two embeddings: embed every crystal of a step once, then score all pairs.
 *
 * Contrastive loss (Hadsell–Chopra–LeCun), Y = 1 when exactly one crystal of the pair is FAST:
 *   L = (1 − Y)·½·D² + Y·½·max(0, m − D)²
 * Euclidean: D² = relu(|a|² + |b|² − 2a·b) (relu absorbs float32 cancellation), and the hinge uses
 * D = √(D² + 1e-9) so the gradient stays finite at D = 0 (self-pairs, duplicates); the similar term
 * uses D² directly (exact, smooth). Cosine: D = 1 − cos(a, b) ∈ [0, 2].
 */
import * as tf from '@tensorflow/tfjs';
import type { DistanceMetric } from '../model/hyperparameters.js';

/** Added under the square root in the hinge term (Å-free units of the embedding). */
export const SAFE_SQRT_EPSILON = 1e-9;
const COSINE_NORM_EPSILON = 1e-12;

export interface ContrastiveOptions {
  margin: number;
  distance: DistanceMetric;
}

/** Pairwise distances [B, B]: returns D² (Euclidean) or D (cosine), as used by each loss term. */
function pairTerms(embedding: tf.Tensor2D, distance: DistanceMetric): { similar: tf.Tensor2D; dissimilarDistance: tf.Tensor2D } {
  if (distance === 'EUCLIDEAN') {
    const sq = tf.sum(tf.square(embedding), 1, true); // [B, 1]
    const gram = tf.matMul(embedding, embedding, false, true); // [B, B] (tiny; the slow transposed path is fine)
    const d2 = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(gram, 2))) as tf.Tensor2D;
    return { similar: tf.mul(d2, 0.5) as tf.Tensor2D, dissimilarDistance: tf.sqrt(tf.add(d2, SAFE_SQRT_EPSILON)) as tf.Tensor2D };
  }
  const unit = tf.div(embedding, tf.sqrt(tf.add(tf.sum(tf.square(embedding), 1, true), COSINE_NORM_EPSILON)));
  const d = tf.sub(1, tf.matMul(unit, unit, false, true)) as tf.Tensor2D;
  return { similar: tf.mul(tf.square(d), 0.5) as tf.Tensor2D, dissimilarDistance: d };
}

/**
 * Mean contrastive loss over the pairs selected by `pairMask` ([B·B] 0/1, row-major; use each
 * unordered pair once and leave the diagonal out). `labels` [B]: 1 = FAST, 0 = POOR. Returns a
 * scalar; with no selected pair it returns 0 (no gradient).
 */
export function contrastivePairLoss(
  embedding: tf.Tensor2D,
  labels: ArrayLike<number>,
  pairMask: Float32Array,
  options: ContrastiveOptions,
  /** Divide the sum by this instead of the number of selected pairs (data-parallel shards). */
  normaliser?: number,
): tf.Scalar {
  const B = embedding.shape[0];
  let count = 0;
  const dissimilar = new Float32Array(B * B);
  const similarMask = new Float32Array(B * B);
  for (let a = 0; a < B; a++) {
    for (let b = 0; b < B; b++) {
      const m = pairMask[a * B + b]!;
      if (!m) continue;
      count += m;
      if (labels[a] !== labels[b]) dissimilar[a * B + b] = m;
      else similarMask[a * B + b] = m;
    }
  }
  if (count === 0) return tf.scalar(0);
  const { similar, dissimilarDistance } = pairTerms(embedding, options.distance);
  const hinge = tf.mul(tf.square(tf.relu(tf.sub(options.margin, dissimilarDistance))), 0.5);
  const total = tf.add(
    tf.sum(tf.mul(similar, tf.tensor2d(similarMask, [B, B]))),
    tf.sum(tf.mul(hinge, tf.tensor2d(dissimilar, [B, B]))),
  );
  return tf.div(total, normaliser ?? count) as tf.Scalar;
}

/** Contrastive loss of one pair from two embeddings, in float64 on the host (validation, tests). */
export function pairLossHost(a: ArrayLike<number>, b: ArrayLike<number>, dissimilar: boolean, options: ContrastiveOptions): number {
  let d: number;
  if (options.distance === 'EUCLIDEAN') {
    let d2 = 0;
    for (let i = 0; i < a.length; i++) d2 += (a[i]! - b[i]!) ** 2;
    if (!dissimilar) return 0.5 * d2;
    d = Math.sqrt(d2 + SAFE_SQRT_EPSILON);
  } else {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    d = 1 - ab / (Math.sqrt(aa + COSINE_NORM_EPSILON) * Math.sqrt(bb + COSINE_NORM_EPSILON));
    if (!dissimilar) return 0.5 * d * d;
  }
  return 0.5 * Math.max(0, options.margin - d) ** 2;
}

/** Softmax cross-entropy of logits [B, 2] against labels (1 = FAST), summed and divided by `normaliser` (default B). */
export function crossEntropyLoss(logits: tf.Tensor2D, labels: ArrayLike<number>, normaliser?: number): tf.Scalar {
  const oneHot = tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), 2);
  const perCrystal = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.NONE);
  return tf.div(tf.sum(perCrystal), normaliser ?? labels.length) as tf.Scalar;
}

/** Cross-entropy of a P(FAST) on the host (validation), clipped away from 0 and 1. */
export function crossEntropyHost(probabilityFast: number, label: number): number {
  const p = Math.min(1 - 1e-7, Math.max(1e-7, probabilityFast));
  return -(label === 1 ? Math.log(p) : Math.log(1 - p));
}
