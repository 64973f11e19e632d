/** Inference: embeddings (and class probabilities) for many graphs, in batches, BN in inference mode. */
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../errors.js';
import { buildCrystalGraph, type CrystalGraph } from '../graph/crystal-graph.js';
import type { Structure } from '../structure/structure.js';
import { forward, makeModelBatch, type KnagcnModel } from './backbone.js';
import { graphOptions } from './hyperparameters.js';

export interface EmbedOptions {
  /** Crystals per forward pass (default 64). */
  batchSize?: number;
  /** Also cap atoms per pass (default 20 000) so one huge cell cannot blow memory. */
  maxAtomsPerBatch?: number;
}

/** Consecutive batches of at most `batchSize` graphs and `maxAtoms` atoms (a bigger graph goes alone). */
export function chunkGraphs(graphs: readonly CrystalGraph[], batchSize: number, maxAtoms: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let atoms = 0;
  graphs.forEach((g, i) => {
    if (current.length > 0 && (current.length >= batchSize || atoms + g.numAtoms > maxAtoms)) {
      chunks.push(current);
      current = [];
      atoms = 0;
    }
    current.push(i);
    atoms += g.numAtoms;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function runInference(
  model: KnagcnModel,
  graphs: readonly CrystalGraph[],
  options: EmbedOptions,
  pick: (r: ReturnType<typeof forward>) => tf.Tensor2D,
): Float32Array[] {
  const batchSize = options.batchSize ?? 64;
  const maxAtoms = options.maxAtomsPerBatch ?? 20_000;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new BadInputError(`batchSize must be a positive integer, got ${batchSize}`);
  const out: Float32Array[] = new Array(graphs.length);
  for (const chunk of chunkGraphs(graphs, batchSize, maxAtoms)) {
    const batch = makeModelBatch(chunk.map((i) => graphs[i]!), model.hyperparameters, { training: false });
    try {
      const result = tf.tidy(() => pick(forward(model, batch)));
      const values = result.dataSync() as Float32Array;
      result.dispose();
      const width = values.length / chunk.length;
      chunk.forEach((g, r) => {
        out[g] = values.slice(r * width, (r + 1) * width);
      });
    } finally {
      batch.dispose();
    }
  }
  return out;
}

/** One embedding (length E) per graph, in input order. */
export function embedStructures(model: KnagcnModel, graphs: readonly CrystalGraph[], options: EmbedOptions = {}): Float32Array[] {
  return runInference(model, graphs, options, (r) => r.embedding);
}

/** P(FAST) per graph from the classification head (CROSS_ENTROPY / JOINT models only). */
export function classifyStructures(model: KnagcnModel, graphs: readonly CrystalGraph[], options: EmbedOptions = {}): Float32Array {
  if (model.hyperparameters.objective === 'CONTRASTIVE') throw new BadInputError('this model has no classification head (objective CONTRASTIVE)');
  const rows = runInference(model, graphs, options, (r) => tf.softmax(r.logits!) as tf.Tensor2D);
  return Float32Array.from(rows, (p) => p[1]!);
}

export interface StructureEmbeddings {
  /** One embedding per structure, in input order; null where its graph could not be built. */
  vectors: (Float32Array | null)[];
  /** The graph builder's message where it failed, else null. */
  errors: (string | null)[];
}

/**
 * Graphs (with the model's k) and embeddings of structures. A structure whose graph cannot be built
 * (e.g. a degenerate cell) is reported, not thrown: a batch of imported materials goes on without it.
 */
export function embedStructureBatch(model: KnagcnModel, structures: readonly Structure[], options: EmbedOptions = {}): StructureEmbeddings {
  const graphs: CrystalGraph[] = [];
  const position: number[] = [];
  const errors: (string | null)[] = structures.map((structure, i) => {
    try {
      graphs.push(buildCrystalGraph(structure, graphOptions(model.hyperparameters)));
      position.push(i);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  });
  const vectors: (Float32Array | null)[] = structures.map(() => null);
  if (graphs.length > 0) embedStructures(model, graphs, options).forEach((v, r) => (vectors[position[r]!] = v));
  return { vectors, errors };
}
