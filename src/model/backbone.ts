/**
 * k-NAGCN backbone + readout (knagcn.md §3.2, §4) as explicit TF.js variables and a pure forward
 * function.
 *
 * Layer ℓ (F = featureLength, K = k, S = K + 1, Dg = geometry row width, batch.ts geometryWidth):
 *   z_i = [h_i ‖ h_{j1} ‖ g_{i,1} ‖ … ‖ h_{jK} ‖ g_{i,K}]            (§3.2 joint neighbourhood)
 *   u_i = W z_i = Σ_{s<K} W_s h_{js} + W_self h_i + W_g [g_{i,1} … g_{i,K}]
 * computed as u = slotMix(H) + G·W_g (G·W_g of all layers in one product, see parameterLayout): a JS gather builds z = [h_{j1} … h_{jK} h_i] ([N, S·F]), one
 * matMul applies the stacked slot weights [S·F, 2F], and the backward pass scatters back (see
 * ops.ts slotMix). Exactly the §3.2 function. (Multiply-before-gather, H·[W_1 … W_S] then a sparse
 * sum, has the same FLOPs but makes XNNPACK repack an [N, S·2F] operand for dW on every step,
 * measured ~2× slower here.) The products stay 2F = 192 wide: XNNPACK runs a 192-wide product
 * ~2× faster than two 96-wide ones.
 *   (u_gate, u_core) = halves of BN(u);  m_i = σ(u_gate) ⊙ softplus(u_core)  (one fused kernel, no
 *   slicing: Slice is slow on wasm);   h_i' = softplus(h_i + BN(m_i))
 * The conv layers have no bias: the BN that follows removes it (β plays its role).
 * Readout: c = mean_i h_i;  e1 = softplus(W1·softplus(c) + b1);  emb = W2·e1 + b2  (E, linear).
 * With `compositionDescriptors`, W1 reads [softplus(c) ‖ BN(descriptors)] (81 composition statistics).
 * CROSS_ENTROPY / JOINT add a 2-class head on the embedding: logits = Wc·emb + bc.
 */
import * as tf from '@tensorflow/tfjs';
import { ATOM_FEATURE_LENGTH } from '../features/atom-features.js';
import { elementTableHash } from '../features/element-table.js';
import { gaussianCentres } from '../features/gaussian-basis.js';
import { compositionFeatureNames, ELEMENT_TABLE_PROPERTIES } from '../features/composition-features.js';
import type { Hyperparameters } from './hyperparameters.js';
import { geometryWidth, type GraphBatch } from './batch.js';
import { batchNormInfer, batchNormTrain, columnBlock, gatedSoftplus, gatherRows, linear, linearConstInput, meanPool, slotMix, slotMixTyped } from './ops.js';
import { hashString, mulberry32 } from './random.js';

/** Length of CrystalGraph.compositionDescriptors (15 element properties × 5 statistics + 6). */
export const COMPOSITION_DESCRIPTOR_LENGTH = compositionFeatureNames(ELEMENT_TABLE_PROPERTIES).length;

/** Bump when the forward function or the parameter layout changes (artifacts check it). */
export const BACKBONE_VERSION = 'knagcn-joint/3';

export interface ModelInfo {
  /** Backend that trained the weights ('wasm', 'tensorflow', 'cpu'); undefined before training. */
  trainedOnBackend?: string;
  /** Element table hash the features were built with (src/features/element-table.ts). */
  elementTableHash: string;
  backboneVersion: string;
}

export interface KnagcnModel {
  readonly hyperparameters: Hyperparameters;
  readonly info: ModelInfo;
  /** Trainable parameters by name, in a fixed order. */
  readonly trainable: Map<string, tf.Variable>;
  /** BatchNorm moving statistics by name (not trained by the optimiser). */
  readonly state: Map<string, tf.Variable>;
  dispose(): void;
}

/** Parameter shapes by name, in order; `glorot` = [fanIn, fanOut] for weights, else constant init. */
export function parameterLayout(h: Hyperparameters): { name: string; shape: number[]; init: 'glorot' | 'zeros' | 'ones'; fan?: [number, number]; trainable: boolean }[] {
  const F = h.featureLength;
  const K = h.k;
  const S = K + 1;
  const Dg = geometryWidth(K, h.gaussian);
  // Glorot over the literal §3.2 matrix W [F + K·(F + G + K), 2F]: every block gets the same limit.
  const jointFan: [number, number] = [F + K * F + K * (gaussianCentres(h.gaussian).length + K), 2 * F];
  const out: ReturnType<typeof parameterLayout> = [];
  const w = (name: string, shape: number[], fan: [number, number]) => out.push({ name, shape, init: 'glorot', fan, trainable: true });
  const c = (name: string, shape: number[], init: 'zeros' | 'ones', trainable = true) => out.push({ name, shape, init, trainable });
  const bn = (name: string, width: number) => {
    c(`${name}/gamma`, [width], 'ones');
    c(`${name}/beta`, [width], 'zeros');
    c(`${name}/movingMean`, [width], 'zeros', false);
    c(`${name}/movingVariance`, [width], 'ones', false);
  };
  w('embed/W', [ATOM_FEATURE_LENGTH, F], [ATOM_FEATURE_LENGTH, F]);
  c('embed/b', [F], 'zeros');
  // Geometry weights of all layers side by side, [Dg, layers·2F]: the geometry input is the same for
  // every layer, so one wide product (and one for its gradient) replaces a narrow one per layer.
  w('geometry/W', [Dg, h.layers * 2 * F], jointFan);
  for (let l = 0; l < h.layers; l++) {
    w(`conv${l}/Wh`, [S * F, 2 * F], jointFan);
    bn(`conv${l}/bn`, 2 * F);
    bn(`conv${l}/bnOut`, F);
  }
  const readIn = F + (h.compositionDescriptors ? COMPOSITION_DESCRIPTOR_LENGTH : 0);
  if (h.compositionDescriptors) bn('composition/bn', COMPOSITION_DESCRIPTOR_LENGTH);
  w('dense1/W', [readIn, h.denseLength], [readIn, h.denseLength]);
  c('dense1/b', [h.denseLength], 'zeros');
  w('dense2/W', [h.denseLength, h.embeddingDim], [h.denseLength, h.embeddingDim]);
  c('dense2/b', [h.embeddingDim], 'zeros');
  if (h.objective !== 'CONTRASTIVE') {
    w('head/W', [h.embeddingDim, 2], [h.embeddingDim, 2]);
    c('head/b', [2], 'zeros');
  }
  return out;
}

/**
 * New model with seeded Glorot-uniform weights (limit √(6/(fanIn+fanOut))), zero biases, BN γ = 1,
 * β = 0. Each parameter draws from its own stream (seed ⊕ hash(name)), so adding a parameter does
 * not change the others. `values` (from an artifact) replaces the initialisers.
 */
let variableCounter = 0;

export function createModel(h: Hyperparameters, values?: Map<string, Float32Array>, info?: Partial<ModelInfo>): KnagcnModel {
  const trainable = new Map<string, tf.Variable>();
  const state = new Map<string, tf.Variable>();
  for (const p of parameterLayout(h)) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    let data = values?.get(p.name);
    if (data && data.length !== size) throw new Error(`parameter ${p.name}: expected ${size} values, got ${data.length}`);
    if (!data) {
      data = new Float32Array(size);
      if (p.init === 'ones') data.fill(1);
      if (p.init === 'glorot') {
        const random = mulberry32((h.seed ^ hashString(p.name)) >>> 0);
        const limit = Math.sqrt(6 / (p.fan![0] + p.fan![1]));
        for (let i = 0; i < size; i++) data[i] = (2 * random() - 1) * limit;
      }
    }
    // Variable names are global in the TF.js engine: suffix a process-wide counter.
    const initial = tf.tensor(data, p.shape, 'float32');
    const v = tf.variable(initial, p.trainable, `${p.name}#${variableCounter++}`);
    initial.dispose(); // the variable holds its own reference to the data
    (p.trainable ? trainable : state).set(p.name, v);
  }
  return {
    hyperparameters: h,
    info: { elementTableHash: elementTableHash(), backboneVersion: BACKBONE_VERSION, ...info },
    trainable,
    state,
    dispose() {
      for (const v of [...trainable.values(), ...state.values()]) v.dispose();
    },
  };
}

export interface ForwardResult {
  /** [B, E] */
  embedding: tf.Tensor2D;
  /** [B, 2] when the model has a classification head. */
  logits?: tf.Tensor2D;
}

/** BatchNorm batch statistics collected in training mode (to update the moving averages). */
export type BatchStatistics = Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;

/**
 * Forward pass. `statistics` given → training mode (batch BN statistics recorded there);
 * omitted → inference mode with the moving statistics.
 */
export function forward(model: KnagcnModel, batch: GraphBatch, statistics?: BatchStatistics): ForwardResult {
  const h = model.hyperparameters;
  const P = (name: string) => {
    const v = model.trainable.get(name) ?? model.state.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    return v;
  };
  const F = h.featureLength;
  const S = batch.slots;
  const N = batch.numAtoms;
  const norm = (x: tf.Tensor2D, name: string, count = N): tf.Tensor2D => {
    const gamma = P(`${name}/gamma`) as tf.Tensor1D;
    const beta = P(`${name}/beta`) as tf.Tensor1D;
    if (!statistics) {
      return batchNormInfer(x, gamma, beta, P(`${name}/movingMean`) as tf.Tensor1D, P(`${name}/movingVariance`) as tf.Tensor1D);
    }
    const r = batchNormTrain(x, gamma, beta);
    statistics.set(name, { mean: r.mean, variance: r.variance, count });
    return r.y;
  };

  let H: tf.Tensor2D; // [N, F]
  let firstLayer: ((w: tf.Tensor2D) => tf.Tensor2D) | undefined;
  if (batch.typed) {
    // The input rows depend only on the atom's species mix: embed and multiply the D distinct rows.
    const distinct = linearConstInput(batch.typed.x92, undefined, P('embed/W') as tf.Tensor2D, P('embed/b') as tf.Tensor1D); // [D, F]
    H = gatherRows(distinct, batch.typed.atomType);
    firstLayer = (w) => slotMixTyped(distinct, w, batch.typed!.slotIndex, S);
  } else {
    H = linearConstInput(batch.x92, batch.x92T, P('embed/W') as tf.Tensor2D, P('embed/b') as tf.Tensor1D);
  }
  const geometryAll = linearConstInput(batch.geometry, batch.geometryT, P('geometry/W') as tf.Tensor2D); // [N, layers·2F]
  for (let l = 0; l < h.layers; l++) {
    const w = P(`conv${l}/Wh`) as tf.Tensor2D;
    const neighbours = l === 0 && firstLayer ? firstLayer(w) : slotMix(H, w, batch.slotIndex, S); // [N, 2F]
    const geometry = h.layers === 1 ? geometryAll : columnBlock(geometryAll, l * 2 * F, 2 * F); // [N, 2F]
    const u = norm(tf.add(neighbours, geometry) as tf.Tensor2D, `conv${l}/bn`); // [N, 2F]
    const message = gatedSoftplus(u); // [N, F] = σ(u_gate) ⊙ softplus(u_core)
    H = tf.softplus(tf.add(H, norm(message, `conv${l}/bnOut`))) as tf.Tensor2D;
  }
  const crystal = meanPool(H, batch.pool, batch.poolT); // [B, F]
  let readIn = tf.softplus(crystal) as tf.Tensor2D;
  if (h.compositionDescriptors) {
    // Descriptors are inputs (no gradient flows into them); their BN puts 81 scales on one footing.
    const descriptors = norm(batch.composition, 'composition/bn', batch.numCrystals); // [B, 81]
    readIn = tf.concat([readIn, descriptors], 1) as tf.Tensor2D; // [B, F + 81]
  }
  const e1 = tf.softplus(linear(readIn, P('dense1/W') as tf.Tensor2D, P('dense1/b') as tf.Tensor1D)) as tf.Tensor2D;
  const embedding = linear(e1, P('dense2/W') as tf.Tensor2D, P('dense2/b') as tf.Tensor1D); // [B, E]
  if (!model.trainable.has('head/W')) return { embedding };
  const logits = linear(embedding, P('head/W') as tf.Tensor2D, P('head/b') as tf.Tensor1D);
  return { embedding, logits };
}

/**
 * Moving-average update after a training step (TF.js/Keras convention):
 * moving = m·moving + (1 − m)·batch, with the unbiased batch variance.
 */
export function updateMovingStatistics(model: KnagcnModel, statistics: BatchStatistics): void {
  const m = model.hyperparameters.batchNormMomentum;
  tf.tidy(() => {
    for (const [name, { mean, variance, count }] of statistics) {
      const movingMean = model.state.get(`${name}/movingMean`)!;
      const movingVariance = model.state.get(`${name}/movingVariance`)!;
      const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
      movingMean.assign(tf.add(tf.mul(movingMean, m), tf.mul(mean, 1 - m)));
      movingVariance.assign(tf.add(tf.mul(movingVariance, m), tf.mul(unbiased, 1 - m)));
    }
  });
  for (const { mean, variance } of statistics.values()) {
    mean.dispose();
    variance.dispose();
  }
  statistics.clear();
}
