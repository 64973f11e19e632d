/**
 * Batches for the 'knagcn-smooth' backbone: the atoms of B crystals concatenated (N rows), their
 * smooth-neighbourhood edges (E rows, indices made global), and one composition row per crystal.
 * A crystal may have no atoms (a material known by its composition alone): its pooled structure
 * vector is then absent (`structureMask` 0) and the model embeds it from the composition pathway.
 */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors.js';
import { ATOM_FEATURE_LENGTH } from '../features/atom-features.js';
import { gaussianCentres, writeGaussianExpansion, type GaussianBasis } from '../features/gaussian-basis.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { fastTransposedMatMul } from './native-matmul.js';
import { scaledCompositionRow } from './batch.js';

export interface SmoothBatch {
  numCrystals: number;
  numAtoms: number;
  numEdges: number;
  /** [N, 92] atom features (+ transpose for dW where transposed products are slow). */
  x92: tf.Tensor2D;
  x92T?: tf.Tensor2D;
  /** [E] global centre and neighbour atom of each edge. */
  edgeCenter: tf.Tensor1D;
  edgeNeighbour: tf.Tensor1D;
  /**
   * [E, G + 1] ŵ_e·[GaussExp(d_e) ‖ 1] (+ transpose): the edge's normalised weight (Σ over a centre's
   * edges = 1) times its distance expansion and a bias column, so that ŵ_e·(Wf·GaussExp(d_e) + bf)
   * is one product with [Wf; bf] and no broadcast multiply.
   */
  edgeDistance: tf.Tensor2D;
  edgeDistanceT?: tf.Tensor2D;
  /** [B, N] mean pooling (1/N_c on crystal c's atoms; a row of zeros for a crystal without atoms) (+ transpose). */
  pool: tf.Tensor2D;
  poolT?: tf.Tensor2D;
  /** [B, 1] 1 where the crystal has atoms. */
  structureMask: tf.Tensor2D;
  /** [B, 81] scaled composition descriptors. */
  composition: tf.Tensor2D;
  dispose(): void;
}

export function makeSmoothBatch(graphs: readonly CrystalGraph[], basis: GaussianBasis, options: { training?: boolean } = {}): SmoothBatch {
  if (graphs.length === 0) throw new BadInputError('empty batch');
  const transposes = (options.training ?? true) && !fastTransposedMatMul();
  const centres = gaussianCentres(basis);
  const G = centres.length;
  let N = 0;
  let E = 0;
  for (const g of graphs) {
    if (g.numAtoms > 0 && !g.edges) throw new BadInputError('graph was not built with the smooth neighbourhood this model expects');
    N += g.numAtoms;
    E += g.edges?.center.length ?? 0;
  }
  const B = graphs.length;
  const D = graphs[0]!.compositionDescriptors.length;
  const x92 = new Float32Array(N * ATOM_FEATURE_LENGTH);
  const center = new Int32Array(E);
  const neighbour = new Int32Array(E);
  const distance = new Float32Array(E * (G + 1));
  const pool = new Float32Array(B * N);
  const mask = new Float32Array(B);
  const composition = new Float32Array(B * D);
  let atom = 0;
  let edge = 0;
  graphs.forEach((g, c) => {
    x92.set(g.atomFeatures, atom * ATOM_FEATURE_LENGTH);
    composition.set(scaledCompositionRow(g), c * D);
    if (g.numAtoms > 0) {
      mask[c] = 1;
      for (let i = 0; i < g.numAtoms; i++) pool[c * N + atom + i] = 1 / g.numAtoms;
      const e = g.edges!;
      for (let t = 0; t < e.center.length; t++, edge++) {
        center[edge] = atom + e.center[t]!;
        neighbour[edge] = atom + e.neighbour[t]!;
        const row = edge * (G + 1);
        const w = e.weight[t]!;
        writeGaussianExpansion(e.distance[t]!, centres, basis.widthAngstrom, basis.clampAngstrom, distance, row);
        for (let g = 0; g < G; g++) distance[row + g]! *= w;
        distance[row + G] = w;
      }
    }
    atom += g.numAtoms;
  });
  const x92t = tf.tensor2d(x92, [N, ATOM_FEATURE_LENGTH]);
  const distanceT = tf.tensor2d(distance, [E, G + 1]);
  const poolt = tf.tensor2d(pool, [B, N]);
  const tensors = {
    x92: x92t,
    x92T: transposes ? tf.transpose(x92t) : undefined,
    edgeCenter: tf.tensor1d(center, 'int32'),
    edgeNeighbour: tf.tensor1d(neighbour, 'int32'),
    edgeDistance: distanceT,
    edgeDistanceT: transposes ? tf.transpose(distanceT) : undefined,
    pool: poolt,
    poolT: transposes ? tf.transpose(poolt) : undefined,
    structureMask: tf.tensor2d(mask, [B, 1]),
    composition: tf.tensor2d(composition, [B, D]),
  };
  return {
    numCrystals: B,
    numAtoms: N,
    numEdges: E,
    ...tensors,
    dispose() {
      for (const t of Object.values(tensors)) t?.dispose();
    },
  };
}
