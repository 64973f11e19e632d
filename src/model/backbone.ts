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
import { batchNormInfer, batchNormTrain, columnBlock, gatedSoftplus, gatherRows, linear, linearConstInput, meanPool, scatterRows, slotMix, slotMixTyped } from './ops.js';
import { makeSmoothBatch, type SmoothBatch } from './smooth-batch.js';
import { makeGraphBatch, type GraphBatchOptions } from './batch.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { hashString, mulberry32 } from './random.js';

/** Length of CrystalGraph.compositionDescriptors (15 element properties × 5 statistics + 6). */
export const COMPOSITION_DESCRIPTOR_LENGTH = compositionFeatureNames(ELEMENT_TABLE_PROPERTIES).length;

/** Bump when the forward function or the parameter layout changes (artifacts check it). */
export const BACKBONE_VERSION = 'knagcn-joint/3';
/** The same for the 'knagcn-smooth' backbone. */
export const SMOOTH_BACKBONE_VERSION = 'knagcn-smooth/1';

/** The backbone version a model with these hyperparameters runs. */
export function backboneVersion(h: Pick<Hyperparameters, 'backbone'>): string {
  return h.backbone === 'knagcn-smooth' ? SMOOTH_BACKBONE_VERSION : BACKBONE_VERSION;
}

/** A batch of either backbone. */
export type ModelBatch = GraphBatch | SmoothBatch;

/** Assembles the batch tensors the model's backbone reads. */
export function makeModelBatch(graphs: readonly CrystalGraph[], h: Hyperparameters, options: GraphBatchOptions = {}): ModelBatch {
  return h.backbone === 'knagcn-smooth' ? makeSmoothBatch(graphs, h.gaussian, options) : makeGraphBatch(graphs, h.k, h.gaussian, options);
}

function isSmoothBatch(batch: ModelBatch): batch is SmoothBatch {
  return 'edgeCenter' in batch;
}

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
export type ParameterSpec = { name: string; shape: number[]; init: 'glorot' | 'zeros' | 'ones'; fan?: [number, number]; trainable: boolean };

/** Helpers that append parameters named `prefix + name`: Glorot weights, constants, BatchNorm's four. */
function layoutBuilder(prefix: string) {
  const out: ParameterSpec[] = [];
  const w = (name: string, shape: number[], fan: [number, number]) => out.push({ name: prefix + name, shape, init: 'glorot', fan, trainable: true });
  const c = (name: string, shape: number[], init: 'zeros' | 'ones', trainable = true) => out.push({ name: prefix + name, shape, init, trainable });
  const bn = (name: string, width: number) => {
    c(`${name}/gamma`, [width], 'ones');
    c(`${name}/beta`, [width], 'zeros');
    c(`${name}/movingMean`, [width], 'zeros', false);
    c(`${name}/movingVariance`, [width], 'ones', false);
  };
  return { out, w, c, bn };
}

export function parameterLayout(h: Hyperparameters): ParameterSpec[] {
  if (h.backbone === 'knagcn-smooth') {
    const out: ParameterSpec[] = [];
    for (let m = 0; m < h.members; m++) out.push(...smoothLayout(h, memberPrefix(h, m)));
    return out;
  }
  const F = h.featureLength;
  const K = h.k;
  const S = K + 1;
  const Dg = geometryWidth(K, h.gaussian);
  // Glorot over the literal §3.2 matrix W [F + K·(F + G + K), 2F]: every block gets the same limit.
  const jointFan: [number, number] = [F + K * F + K * (gaussianCentres(h.gaussian).length + K), 2 * F];
  const { out, w, c, bn } = layoutBuilder('');
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

/** Parameter-name prefix of ensemble member m ('' for a single network). */
function memberPrefix(h: Pick<Hyperparameters, 'members'>, m: number): string {
  return h.members > 1 ? `m${m}/` : '';
}

/**
 * 'knagcn-smooth' layer ℓ over the edges e = (i ← j) of the smooth neighbourhoods (weights ŵ_e,
 * Σ_{e∋i} ŵ_e = 1). Every neighbour is treated alike (no slots, no order):
 *   a_i = Σ_e ŵ_e · (Wn·h_j) ⊙ (Wf·GaussExp(d_e) + bf)     (a continuous-filter convolution, as SchNet)
 *   u_i = BN(Wc·h_i + Wa·a_i);  m_i = σ(u_gate) ⊙ softplus(u_core);  h_i' = softplus(h_i + BN(m_i))
 * The gate (CGCNN's) acts per atom, not per edge: the edge work is products and sums only, ≈ 20 edges
 * per atom would otherwise make the transcendental functions the cost of training.
 * Readout: c = mean_i h_i; r = [softplus(c)·s ‖ s ‖ BN(descriptors)] with s = 1 when the material
 * has a structure (0: composition only, c absent); e1 = softplus(W1·r + b1); emb = W2·e1 + b2.
 */
function smoothLayout(h: Hyperparameters, p: string): ParameterSpec[] {
  const F = h.featureLength;
  const G = gaussianCentres(h.gaussian).length;
  const { out, w, c, bn } = layoutBuilder(p);
  w('embed/W', [ATOM_FEATURE_LENGTH, F], [ATOM_FEATURE_LENGTH, F]);
  c('embed/b', [F], 'zeros');
  for (let l = 0; l < h.layers; l++) {
    w(`conv${l}/Wf`, [G, F], [G, F]);
    c(`conv${l}/bf`, [F], 'ones');
    w(`conv${l}/Wn`, [F, F], [F, F]);
    w(`conv${l}/Wc`, [F, 2 * F], [2 * F, 2 * F]);
    w(`conv${l}/Wa`, [F, 2 * F], [2 * F, 2 * F]);
    bn(`conv${l}/bn`, 2 * F);
    bn(`conv${l}/bnOut`, F);
  }
  const readIn = F + 1 + (h.compositionDescriptors ? COMPOSITION_DESCRIPTOR_LENGTH : 0);
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
    info: { elementTableHash: elementTableHash(), backboneVersion: backboneVersion(h), ...info },
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
  /** [B, 2] when the model has a classification head (an ensemble: the members' mean). */
  logits?: tf.Tensor2D;
  /** An ensemble's logits per member (each member's loss is its own). */
  memberLogits?: tf.Tensor2D[];
  /** Training only (alignmentWeight > 0): mean squared distance between structures' embeddings and their formulas'. */
  alignment?: tf.Scalar;
}

/** BatchNorm batch statistics collected in training mode (to update the moving averages). */
export type BatchStatistics = Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;

/**
 * Forward pass. `statistics` given → training mode (batch BN statistics recorded there);
 * omitted → inference mode with the moving statistics.
 */
export function forward(model: KnagcnModel, batch: ModelBatch, statistics?: BatchStatistics): ForwardResult {
  if (isSmoothBatch(batch)) return smoothForward(model, batch, statistics);
  if (model.hyperparameters.backbone !== 'knagcn-joint') throw new Error('a slot batch needs the knagcn-joint backbone');
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

function smoothForward(model: KnagcnModel, batch: SmoothBatch, statistics?: BatchStatistics): ForwardResult {
  const h = model.hyperparameters;
  if (h.backbone !== 'knagcn-smooth') throw new Error('a smooth batch needs the knagcn-smooth backbone');
  const embeddings: tf.Tensor2D[] = [];
  const logits: tf.Tensor2D[] = [];
  const alignments: tf.Scalar[] = [];
  for (let m = 0; m < h.members; m++) {
    const out = smoothMember(model, batch, memberPrefix(h, m), statistics);
    embeddings.push(out.embedding);
    if (out.logits) logits.push(out.logits);
    if (out.alignment) alignments.push(out.alignment);
  }
  const alignment = alignments.length > 0 ? (tf.div(tf.addN(alignments), alignments.length) as tf.Scalar) : undefined;
  if (h.members === 1) return { embedding: embeddings[0]!, ...(logits.length ? { logits: logits[0]! } : {}), alignment };
  const embedding = tf.mul(tf.concat(embeddings, 1), 1 / Math.sqrt(h.members)) as tf.Tensor2D;
  if (logits.length === 0) return { embedding, alignment };
  return { embedding, logits: tf.div(tf.addN(logits), h.members) as tf.Tensor2D, memberLogits: logits, alignment };
}

/** Dropout masks in a fixed sequence per model (seeded by the model's seed): training stays deterministic. */
const dropoutCalls = new WeakMap<KnagcnModel, number>();
function nextDropoutSeed(model: KnagcnModel): number {
  const n = (dropoutCalls.get(model) ?? 0) + 1;
  dropoutCalls.set(model, n);
  return (model.hyperparameters.seed * 1_000_003 + n) % 2_147_483_647;
}

function smoothMember(model: KnagcnModel, batch: SmoothBatch, prefix: string, statistics?: BatchStatistics): ForwardResult {
  const h = model.hyperparameters;
  const P = (name: string) => {
    const v = model.trainable.get(prefix + name) ?? model.state.get(prefix + name);
    if (!v) throw new Error(`missing parameter ${prefix + name}`);
    return v;
  };
  const norm = (x: tf.Tensor2D, name: string, count: number): tf.Tensor2D => {
    const gamma = P(`${name}/gamma`) as tf.Tensor1D;
    const beta = P(`${name}/beta`) as tf.Tensor1D;
    if (!statistics) {
      return batchNormInfer(x, gamma, beta, P(`${name}/movingMean`) as tf.Tensor1D, P(`${name}/movingVariance`) as tf.Tensor1D);
    }
    const r = batchNormTrain(x, gamma, beta);
    statistics.set(prefix + name, { mean: r.mean, variance: r.variance, count });
    return r.y;
  };
  const F = h.featureLength;
  const N = batch.numAtoms;
  const E = batch.numEdges;
  let structure: tf.Tensor2D;
  if (N > 0 && E > 0) {
    let H = linearConstInput(batch.x92, batch.x92T, P('embed/W') as tf.Tensor2D, P('embed/b') as tf.Tensor1D); // [N, F]
    for (let l = 0; l < h.layers; l++) {
      // ŵ_e·(Wf·GaussExp(d_e) + bf) in one product: the batch rows carry ŵ_e and a bias column.
      const filterAndBias = tf.concat([P(`conv${l}/Wf`), tf.reshape(P(`conv${l}/bf`), [1, F])], 0) as tf.Tensor2D; // [G + 1, F]
      const filter = linearConstInput(batch.edgeDistance, batch.edgeDistanceT, filterAndBias); // [E, F]
      const neighbour = gatherRows(linear(H, P(`conv${l}/Wn`) as tf.Tensor2D), batch.edgeNeighbour); // [E, F]
      const around = scatterRows(tf.mul(neighbour, filter) as tf.Tensor2D, batch.edgeCenter, N); // [N, F]: the weighted mean over i's edges
      const u = tf.add(linear(H, P(`conv${l}/Wc`) as tf.Tensor2D), linear(around, P(`conv${l}/Wa`) as tf.Tensor2D)) as tf.Tensor2D; // [N, 2F]
      const message = gatedSoftplus(norm(u, `conv${l}/bn`, N)); // [N, F]
      H = tf.softplus(tf.add(H, norm(message, `conv${l}/bnOut`, N))) as tf.Tensor2D;
    }
    structure = tf.mul(tf.softplus(meanPool(H, batch.pool, batch.poolT)), batch.structureMask) as tf.Tensor2D; // [B, F]
  } else {
    structure = tf.zeros([batch.numCrystals, F]);
  }
  let descriptors: tf.Tensor2D | undefined;
  if (h.compositionDescriptors) {
    descriptors = norm(batch.composition, 'composition/bn', batch.numCrystals);
    if (statistics && h.descriptorDropout > 0) descriptors = tf.dropout(descriptors, h.descriptorDropout, undefined, nextDropoutSeed(model)) as tf.Tensor2D;
  }
  const readout = (pooled: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D => {
    const readIn = tf.concat(descriptors ? [pooled, mask, descriptors] : [pooled, mask], 1) as tf.Tensor2D;
    const e1 = tf.softplus(linear(readIn, P('dense1/W') as tf.Tensor2D, P('dense1/b') as tf.Tensor1D)) as tf.Tensor2D;
    return linear(e1, P('dense2/W') as tf.Tensor2D, P('dense2/b') as tf.Tensor1D);
  };
  const embedding = readout(structure, batch.structureMask);
  // Alignment (training only): a structure's embedding is pulled towards the embedding of its formula
  // alone, so that the two kinds of material share one space without a modality offset.
  let alignment: tf.Scalar | undefined;
  if (statistics && h.alignmentWeight > 0 && descriptors && batch.numAtoms > 0) {
    const formulaOnly = readout(tf.zeros([batch.numCrystals, F]), tf.zeros([batch.numCrystals, 1]));
    const squared = tf.sum(tf.square(tf.sub(embedding, formulaOnly)), 1, true); // [B, 1]
    alignment = tf.div(tf.sum(tf.mul(squared, batch.structureMask)), tf.maximum(tf.sum(batch.structureMask), 1)) as tf.Scalar;
  }
  if (!model.trainable.has(`${prefix}head/W`)) return { embedding, alignment };
  return { embedding, alignment, logits: linear(embedding, P('head/W') as tf.Tensor2D, P('head/b') as tf.Tensor1D) };
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
