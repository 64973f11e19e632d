/**
 * Batching variable-size crystal graphs without padding (knagcn.md §7.2): the atoms of B crystals
 * are concatenated (N = Σ N_c rows); neighbour indices become global. All host-side assembly is
 * plain typed-array work; the tensors are created once per batch.
 */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors.js';
import { ATOM_FEATURE_LENGTH } from '../features/atom-features.js';
import { gaussianCentres, writeGaussianExpansion, type GaussianBasis } from '../features/gaussian-basis.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { fastTransposedMatMul } from './native-matmul.js';
import { compositionFeatureScales, ELEMENT_TABLE_PROPERTIES } from '../features/composition-features.js';
import { elementPropertiesByZ, MAX_ELEMENT_Z } from '../features/element-table.js';

let descriptorScales: Float32Array | undefined;

/** compositionFeatureScales of the project's element table, once per process. */
function scalesOfDescriptors(): Float32Array {
  descriptorScales ??= Float32Array.from(
    compositionFeatureScales(ELEMENT_TABLE_PROPERTIES, Array.from({ length: MAX_ELEMENT_Z }, (_, i) => elementPropertiesByZ(i + 1).symbol)),
  );
  return descriptorScales;
}

/** A graph's composition descriptors divided by their fixed scales (compositionFeatureScales). */
export function scaledCompositionRow(g: CrystalGraph): Float32Array {
  const scales = scalesOfDescriptors();
  return Float32Array.from(g.compositionDescriptors, (v, j) => v / scales[j]!);
}

export interface GraphBatch {
  numCrystals: number;
  numAtoms: number;
  /** Slots per atom S = k + 1: the k neighbours, then the atom itself. */
  slots: number;
  /** [N, 92] occupancy-weighted one-hot features, and its transpose [92, N] (for dW; training batches on XNNPACK only). */
  x92: tf.Tensor2D;
  x92T?: tf.Tensor2D;
  /** [N·S] int32: batch atom index read by slot s of atom i (neighbour j for s < k; i itself for s = k). */
  slotIndex: tf.Tensor1D;
  /** [N, Dg] geometry rows [GaussExp(d_1) … GaussExp(d_k) ‖ cos(s, l) for s < l] (see geometryWidth); transpose [Dg, N]. */
  geometry: tf.Tensor2D;
  geometryT?: tf.Tensor2D;
  /** [B, N] mean-pooling matrix (1/N_c on crystal c's atoms) and its transpose [N, B] (training only). */
  pool: tf.Tensor2D;
  poolT?: tf.Tensor2D;
  /** [B, 81] composition descriptors of each crystal (CrystalGraph.compositionDescriptors), each divided by its fixed scale (compositionFeatureScales). */
  composition: tf.Tensor2D;
  /**
   * The atoms' distinct input rows, for the first layer's products over D ≪ N rows (ops.ts
   * slotMixTyped): built where the native kernels run the products. x92 [D, 92]; atomType [N] (row of
   * each atom); slotIndex [N·S] = s·D + atomType of the atom slot s reads.
   */
  typed?: { x92: tf.Tensor2D; atomType: tf.Tensor1D; slotIndex: tf.Tensor1D };
  dispose(): void;
}

/**
 * Width of the per-atom geometry row: k·G Gaussian values, then the k(k−1)/2 cosines c_{s,l}, s < l.
 *
 * knagcn.md §1.4 gives every slot the full cosine row c_{s,1..k}. The k×k matrix is symmetric with a
 * unit diagonal, so a linear map over all k² entries equals one over the upper triangle plus a
 * constant (w_{s,l} c_{s,l} + w_{l,s} c_{l,s} = (w_{s,l} + w_{l,s}) c_{s,l}), and the BatchNorm after
 * the map removes constants: the same function class with 558 instead of 636 inputs for k = 12.
 */
export function geometryWidth(k: number, basis: GaussianBasis): number {
  return k * gaussianCentres(basis).length + (k * (k - 1)) / 2;
}

function transposeHost(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  }
  return out;
}

interface GraphRows {
  /** [N_c, width] per-slot geometry rows and (made on first use) their transpose [width, N_c]. */
  geometry: Float32Array;
  geometryT: () => Float32Array;
  /** [92, N_c] transposed features (made on first use). */
  x92T: () => Float32Array;
}

function once(make: () => Float32Array): () => Float32Array {
  let value: Float32Array | undefined;
  return () => (value ??= make());
}

/** Writes graph g's geometry rows [N_c, geometryWidth] into `out` at row `atomOffset`. */
function writeGeometryRows(g: CrystalGraph, k: number, basis: GaussianBasis, centres: Float64Array, out: Float32Array, atomOffset: number): void {
  const G = centres.length;
  const width = geometryWidth(k, basis);
  for (let i = 0; i < g.numAtoms; i++) {
    const row = (atomOffset + i) * width;
    for (let s = 0; s < k; s++) {
      writeGaussianExpansion(g.neighbourDistance[i * k + s]!, centres, basis.widthAngstrom, basis.clampAngstrom, out, row + s * G);
    }
    let o = row + k * G;
    for (let s = 0; s < k; s++) {
      const cos = (i * k + s) * k;
      for (let l = s + 1; l < k; l++) out[o++] = g.neighbourCosine[cos + l]!;
    }
  }
}

/**
 * Training reuses every graph each epoch, so its geometry rows (≈ N·k·41 exp calls) and transposes
 * are computed once and kept while the graph object lives. Inference batches do not use the cache:
 * a screening pool would otherwise hold ~250 kB extra per 100-atom crystal.
 */
const rowCache = new WeakMap<CrystalGraph, Map<string, GraphRows>>();

function graphRows(g: CrystalGraph, k: number, basis: GaussianBasis, centres: Float64Array): GraphRows {
  const key = `${k}|${basis.dMinAngstrom}|${basis.dMaxAngstrom}|${basis.stepAngstrom}|${basis.widthAngstrom}|${basis.clampAngstrom}`;
  let perGraph = rowCache.get(g);
  const hit = perGraph?.get(key);
  if (hit) return hit;
  const width = geometryWidth(k, basis);
  const geometry = new Float32Array(g.numAtoms * width);
  writeGeometryRows(g, k, basis, centres, geometry, 0);
  const rows = {
    geometry,
    geometryT: once(() => transposeHost(geometry, g.numAtoms, width)),
    x92T: once(() => transposeHost(g.atomFeatures, g.numAtoms, ATOM_FEATURE_LENGTH)),
  };
  if (!perGraph) {
    perGraph = new Map();
    rowCache.set(g, perGraph);
  }
  perGraph.set(key, rows);
  return rows;
}

/** Per graph: its distinct feature rows (as keys) and each atom's local row. */
const typeCache = new WeakMap<CrystalGraph, { keys: string[]; rows: Float32Array[]; atomType: Int32Array }>();

function graphTypes(g: CrystalGraph): { keys: string[]; rows: Float32Array[]; atomType: Int32Array } {
  const hit = typeCache.get(g);
  if (hit) return hit;
  const local = new Map<string, number>();
  const keys: string[] = [];
  const rows: Float32Array[] = [];
  const atomType = new Int32Array(g.numAtoms);
  for (let i = 0; i < g.numAtoms; i++) {
    const row = g.atomFeatures.subarray(i * ATOM_FEATURE_LENGTH, (i + 1) * ATOM_FEATURE_LENGTH);
    // Rows are sparse (a few occupancy-weighted one-hot entries): key = the exact non-zero entries.
    let key = '';
    for (let f = 0; f < ATOM_FEATURE_LENGTH; f++) if (row[f] !== 0) key += `${f}:${row[f]};`;
    let t = local.get(key);
    if (t === undefined) {
      t = keys.length;
      local.set(key, t);
      keys.push(key);
      rows.push(row);
    }
    atomType[i] = t;
  }
  const types = { keys, rows, atomType };
  typeCache.set(g, types);
  return types;
}

/** The batch's distinct rows and the typed slot index (see GraphBatch.typed). */
function typedLayout(graphs: readonly CrystalGraph[], slotIndex: Int32Array, N: number, S: number): GraphBatch['typed'] {
  const global = new Map<string, number>();
  const rows: Float32Array[] = [];
  const atomType = new Int32Array(N);
  let offset = 0;
  for (const g of graphs) {
    const types = graphTypes(g);
    const map = types.keys.map((key, t) => {
      let id = global.get(key);
      if (id === undefined) {
        id = rows.length;
        global.set(key, id);
        rows.push(types.rows[t]!);
      }
      return id;
    });
    for (let i = 0; i < g.numAtoms; i++) atomType[offset + i] = map[types.atomType[i]!]!;
    offset += g.numAtoms;
  }
  const D = rows.length;
  const x92 = new Float32Array(D * ATOM_FEATURE_LENGTH);
  rows.forEach((row, t) => x92.set(row, t * ATOM_FEATURE_LENGTH));
  const typedSlots = new Int32Array(N * S);
  for (let i = 0; i < N; i++) for (let s = 0; s < S; s++) typedSlots[i * S + s] = s * D + atomType[slotIndex[i * S + s]!]!;
  return {
    x92: tf.tensor2d(x92, [D, ATOM_FEATURE_LENGTH]),
    atomType: tf.tensor1d(atomType, 'int32'),
    slotIndex: tf.tensor1d(typedSlots, 'int32'),
  };
}

/** Copies a [rows, n_c] block into columns [offset, offset + n_c) of a [rows, N] matrix. */
function placeColumns(dst: Float32Array, N: number, block: Float32Array, rows: number, nc: number, offset: number): void {
  for (let r = 0; r < rows; r++) dst.set(block.subarray(r * nc, (r + 1) * nc), r * N + offset);
}

export interface GraphBatchOptions {
  /**
   * Cache per-graph rows and build the transposes gradients need (default true). With OpenBLAS
   * running the products the transposes are left out: the gradients pass transpose flags instead.
   */
  training?: boolean;
}

/** Assembles the batch tensors for `graphs` (all built with the same k). */
export function makeGraphBatch(graphs: readonly CrystalGraph[], k: number, basis: GaussianBasis, options: GraphBatchOptions = {}): GraphBatch {
  const training = options.training ?? true;
  const transposes = training && !fastTransposedMatMul();
  if (graphs.length === 0) throw new BadInputError('empty batch');
  const centres = gaussianCentres(basis);
  const width = geometryWidth(k, basis);
  const S = k + 1;
  let N = 0;
  for (const g of graphs) {
    if (g.k !== k) throw new BadInputError(`graph built with k = ${g.k}, model expects k = ${k}`);
    N += g.numAtoms;
  }
  const x92 = new Float32Array(N * ATOM_FEATURE_LENGTH);
  const x92T = transposes ? new Float32Array(N * ATOM_FEATURE_LENGTH) : undefined;
  const slotIndex = new Int32Array(N * S);
  const geometry = new Float32Array(N * width);
  const geometryT = transposes ? new Float32Array(N * width) : undefined;
  const B = graphs.length;
  const pool = new Float32Array(B * N);
  const poolT = transposes ? new Float32Array(N * B) : undefined;
  const descriptorLength = graphs[0]!.compositionDescriptors.length;
  const composition = new Float32Array(B * descriptorLength);
  let offset = 0;
  graphs.forEach((g, c) => {
    x92.set(g.atomFeatures, offset * ATOM_FEATURE_LENGTH);
    if (training) {
      const rows = graphRows(g, k, basis, centres);
      geometry.set(rows.geometry, offset * width);
      if (transposes) {
        placeColumns(x92T!, N, rows.x92T(), ATOM_FEATURE_LENGTH, g.numAtoms, offset);
        placeColumns(geometryT!, N, rows.geometryT(), width, g.numAtoms, offset);
      }
    } else {
      writeGeometryRows(g, k, basis, centres, geometry, offset);
    }
    const scales = scalesOfDescriptors();
    for (let j = 0; j < descriptorLength; j++) composition[c * descriptorLength + j] = g.compositionDescriptors[j]! / scales[j]!;
    const inv = 1 / g.numAtoms;
    for (let i = 0; i < g.numAtoms; i++) {
      const atom = offset + i;
      pool[c * N + atom] = inv;
      if (poolT) poolT[atom * B + c] = inv;
      for (let s = 0; s < k; s++) slotIndex[atom * S + s] = offset + g.neighbourIndex[i * k + s]!;
      slotIndex[atom * S + k] = atom;
    }
    offset += g.numAtoms;
  });
  const tensors = {
    x92: tf.tensor2d(x92, [N, ATOM_FEATURE_LENGTH]),
    x92T: x92T && tf.tensor2d(x92T, [ATOM_FEATURE_LENGTH, N]),
    slotIndex: tf.tensor1d(slotIndex, 'int32'),
    geometry: tf.tensor2d(geometry, [N, width]),
    geometryT: geometryT && tf.tensor2d(geometryT, [width, N]),
    pool: tf.tensor2d(pool, [B, N]),
    poolT: poolT && tf.tensor2d(poolT, [N, B]),
    composition: tf.tensor2d(composition, [B, descriptorLength]),
  };
  // Where OpenBLAS runs the products, the first layer multiplies the distinct rows only.
  const typed = fastTransposedMatMul() ? typedLayout(graphs, slotIndex, N, S) : undefined;
  return {
    numCrystals: B,
    numAtoms: N,
    slots: S,
    ...tensors,
    typed,
    dispose() {
      for (const t of Object.values(tensors)) t?.dispose();
      if (typed) for (const t of Object.values(typed)) t.dispose();
    },
  };
}
