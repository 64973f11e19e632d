/**
 * Second model thread (data parallelism on the wasm backend, which runs single-threaded): holds a
 * replica of the model and computes gradients and embeddings for its shard.
 * Training (ParallelTrainer): 'init' → 'ready'; 'step' → 'step'; 'embed' → 'embed'.
 * Inference (ParallelEmbedder): 'load' → 'ready'; 'embedStructures' → 'embedded' (graphs built here too).
 * Failures → 'error'.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { embeddingWidth } from '../model/hyperparameters.js';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import { initBackend } from '../model/backend.js';
import { createModel, type KnagcnModel } from '../model/backbone.js';
import { embedStructureBatch, embedStructures, type StructureEmbeddings } from '../model/embed.js';
import type { Hyperparameters } from '../model/hyperparameters.js';
import type { Structure } from '../structure/structure.js';
import { ShardChannel } from './shard-channel.js';
import { shardGradients, type ShardTask } from './step.js';

export type WorkerRequest =
  | { type: 'init'; hyperparameters: Hyperparameters; graphs: CrystalGraph[]; channel: SharedArrayBuffer }
  | { type: 'step'; seq: number; weights: Float32Array[]; task: ShardTask }
  | { type: 'embed'; weights: Float32Array[]; state: Float32Array[]; crystals: number[] }
  | { type: 'load'; hyperparameters: Hyperparameters; weights: Float32Array[]; state: Float32Array[] }
  | { type: 'embedStructures'; structures: Structure[]; batchSize: number };

export type WorkerReply =
  | { type: 'ready' }
  | {
      type: 'step';
      grads: (Float32Array | null)[];
      loss: number;
      crossLoss: number;
      atoms: number;
      statistics: { name: string; mean: Float32Array; variance: Float32Array; count: number }[];
    }
  | { type: 'embed'; embeddings: Float32Array[] }
  | ({ type: 'embedded' } & StructureEmbeddings)
  | { type: 'error'; message: string };

let model: KnagcnModel | undefined;
let graphs: CrystalGraph[] = [];
let channel: ShardChannel | undefined;

function setValues(variables: tf.Variable[], values: Float32Array[]): void {
  variables.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape)));
}

function handle(request: WorkerRequest): WorkerReply {
  if (request.type === 'init') {
    graphs = request.graphs;
    channel = new ShardChannel(request.channel);
    model = createModel(request.hyperparameters);
    return { type: 'ready' };
  }
  if (request.type === 'load') {
    model?.dispose();
    model = createModel(request.hyperparameters);
    tf.tidy(() => {
      setValues([...model!.trainable.values()], request.weights);
      setValues([...model!.state.values()], request.state);
    });
    return { type: 'ready' };
  }
  if (request.type === 'embedStructures') {
    if (!model) throw new Error('worker used before load');
    return { type: 'embedded', ...embedStructureBatch(model, request.structures, { batchSize: request.batchSize }) };
  }
  if (!model || !channel) throw new Error('worker used before init');
  if (request.type === 'step') {
    tf.tidy(() => setValues([...model!.trainable.values()], request.weights));
    const { task, seq } = request;
    const E = embeddingWidth(model.hyperparameters);
    const result = shardGradients(model, graphs, task, (own) => channel!.exchange(1, seq, own, task.other.length * E));
    const grads = [...model.trainable.keys()].map((name) => {
      const g = result.grads.get(name);
      return g ? (g.dataSync() as Float32Array).slice() : null;
    });
    for (const g of result.grads.values()) g.dispose();
    const statistics = [...result.statistics].map(([name, s]) => {
      const out = { name, mean: (s.mean.dataSync() as Float32Array).slice(), variance: (s.variance.dataSync() as Float32Array).slice(), count: s.count };
      s.mean.dispose();
      s.variance.dispose();
      return out;
    });
    return { type: 'step', grads, loss: result.loss, crossLoss: result.crossLoss, atoms: result.atoms, statistics };
  }
  tf.tidy(() => {
    setValues([...model!.trainable.values()], request.weights);
    setValues([...model!.state.values()], request.state);
  });
  return { type: 'embed', embeddings: embedStructures(model, request.crystals.map((i) => graphs[i]!), { batchSize: 64 }) };
}

const port = parentPort!;
let ready: Promise<unknown> = initBackend('wasm');
port.on('message', (request: WorkerRequest) => {
  ready = ready.then(() => {
    try {
      const reply = handle(request);
      const transfer = reply.type === 'step' ? reply.grads.filter((g): g is Float32Array => g !== null).map((g) => g.buffer) : [];
      port.postMessage(reply, transfer as ArrayBuffer[]);
    } catch (error) {
      channel?.fail();
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
});
