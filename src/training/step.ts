/**
 * One training step's loss and gradients for a shard of the step's crystals. Single-threaded
 * training uses one shard holding every crystal; data-parallel training (parallel.ts) gives each
 * thread a shard and lets them swap embeddings mid-step, so every in-batch pair is still scored.
 *
 * Exactness: with L = Σ_pairs l(e_a, e_b)/P + w·Σ_c ce(c)/C, a shard's loss is its own-own pairs,
 * its cross pairs (other shard's embeddings held constant) and its crystals' CE. The gradient of L
 * is the sum of the shards' gradients (chain rule over e_a and e_b separately). Only BatchNorm
 * differs from one big batch: each shard normalises with its own atoms' statistics ("ghost" BN).
 */
import * as tf from '@tensorflow/tfjs';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { forward, makeModelBatch, type BatchStatistics, type KnagcnModel } from '../model/backbone.js';
import { embeddingWidth } from '../model/hyperparameters.js';
import { contrastivePairLoss, crossEntropyLoss } from './loss.js';

export interface ShardTask {
  /** Global crystal indices this shard embeds. */
  own: number[];
  /** Crystals embedded by the other shard (cross pairs), in the other shard's order. */
  other: number[];
  /** Labels of own then other. */
  labels: number[];
  /** [(O+T)²] row-major over own ‖ other: own-own pairs and own-other pairs to score (a < b, once). */
  pairMask: Float32Array;
  /** Total scored pairs in the whole step (all shards). */
  pairNormaliser: number;
  /** Total crystals in the whole step (CE normaliser). */
  crystalNormaliser: number;
}

export interface ShardResult {
  /** Trainable parameter name → gradient. */
  grads: Map<string, tf.Tensor>;
  /** This shard's share of the step loss, cross pairs included. */
  loss: number;
  /** Loss of the cross pairs alone (counted by both shards; subtract once when summing). */
  crossLoss: number;
  atoms: number;
  statistics: BatchStatistics;
}

/**
 * Forward + backward for a shard. `exchange` receives this shard's embeddings [O·E] and must
 * return the other shard's [T·E] (blocking); it is not called when `other` is empty.
 */
export function shardGradients(
  model: KnagcnModel,
  graphs: readonly CrystalGraph[],
  task: ShardTask,
  exchange?: (own: Float32Array) => Float32Array,
): ShardResult {
  const h = model.hyperparameters;
  const O = task.own.length;
  const T = task.other.length;
  const B = O + T;
  const batch = makeModelBatch(task.own.map((i) => graphs[i]!), h);
  const statistics: BatchStatistics = new Map();
  const names = [...model.trainable.keys()];
  let crossLoss = 0;
  try {
    const { value, grads } = tf.variableGrads(() => {
      statistics.clear();
      const out = forward(model, batch, statistics);
      let embedding = out.embedding;
      if (T > 0) {
        const mine = out.embedding.dataSync() as Float32Array;
        const theirs = exchange!(mine);
        embedding = tf.concat([out.embedding, tf.tensor2d(theirs, [T, embeddingWidth(h)])], 0) as tf.Tensor2D;
      }
      let loss: tf.Scalar = tf.scalar(0);
      if (h.objective !== 'CROSS_ENTROPY' && task.pairNormaliser > 0) {
        loss = contrastivePairLoss(embedding, task.labels, task.pairMask, h, task.pairNormaliser);
        if (T > 0) {
          const crossMask = task.pairMask.map((m, p) => (Math.floor(p / B) < O && p % B >= O ? m : 0));
          crossLoss = tf.tidy(() => contrastivePairLoss(embedding, task.labels, crossMask, h, task.pairNormaliser).dataSync()[0]!);
        }
      }
      if (h.objective !== 'CONTRASTIVE') {
        // An ensemble's members each learn from their own logits (the mean of their losses).
        const ownLabels = task.labels.slice(0, O);
        const ce = out.memberLogits
          ? (tf.div(tf.addN(out.memberLogits.map((l) => crossEntropyLoss(l, ownLabels, task.crystalNormaliser))), out.memberLogits.length) as tf.Scalar)
          : crossEntropyLoss(out.logits!, ownLabels, task.crystalNormaliser);
        // Its share of the step: this shard's crystals over the step's.
        if (out.alignment) loss = tf.add(loss, tf.mul(out.alignment, (h.alignmentWeight * O) / task.crystalNormaliser)) as tf.Scalar;
        loss = tf.add(loss, h.objective === 'JOINT' ? tf.mul(ce, h.crossEntropyWeight) : ce) as tf.Scalar;
      }
      return loss;
    }, [...model.trainable.values()]);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const byName = new Map<string, tf.Tensor>();
    const variableNames = [...model.trainable.values()].map((v) => v.name);
    const variables = [...model.trainable.values()];
    names.forEach((name, i) => {
      // A step whose crystals have no atoms (formulas only) gives the graph layers no gradient. Every
      // variable still gets one (zeros): TF.js optimizers keep their moments by position in the
      // gradient map, so a missing entry would hand one variable another's moments.
      byName.set(name, grads[variableNames[i]!] ?? tf.zerosLike(variables[i]!));
    });
    return { grads: byName, loss, crossLoss, atoms: batch.numAtoms, statistics };
  } catch (error) {
    for (const { mean, variance } of statistics.values()) {
      mean.dispose();
      variance.dispose();
    }
    throw error;
  } finally {
    batch.dispose();
  }
}
