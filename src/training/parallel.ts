/**
 * Two-thread data parallelism for the wasm backend: the main thread and one worker each embed half
 * of a step's crystals (balanced by atom count), swap embeddings mid-step so every in-batch pair is
 * scored, back-propagate their halves, and the main thread sums the gradients and applies Adam.
 * Validation embeddings are split the same way. See step.ts for why the summed gradient is exact
 * (up to per-thread BatchNorm statistics).
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddingWidth } from '../model/hyperparameters.js';
import * as tf from '@tensorflow/tfjs';
import type { CrystalGraph } from '../graph/crystal-graph.js';
import type { KnagcnModel } from '../model/backbone.js';
import { embedStructureBatch, embedStructures, type StructureEmbeddings } from '../model/embed.js';
import type { Structure } from '../structure/structure.js';
import { ShardChannel } from './shard-channel.js';
import { shardGradients, type ShardTask } from './step.js';
import type { WorkerReply, WorkerRequest } from './gradient-worker.js';
import type { Step } from './batching.js';

export interface StepOutcome {
  grads: Map<string, tf.Tensor>;
  loss: number;
  atoms: number;
  /** BN name → whole-step statistics (pooled over shards). */
  statistics: Map<string, { mean: Float32Array; variance: Float32Array; count: number }>;
}

/** Splits crystals into two groups with near-equal atom counts (greedy, largest first; stable). */
export function balanceShards(crystals: readonly number[], graphs: readonly CrystalGraph[]): [number[], number[]] {
  const order = [...crystals].sort((a, b) => graphs[b]!.numAtoms - graphs[a]!.numAtoms || a - b);
  const shards: [number[], number[]] = [[], []];
  const load = [0, 0];
  for (const c of order) {
    const side = load[0]! <= load[1]! ? 0 : 1;
    shards[side].push(c);
    load[side]! += graphs[c]!.numAtoms;
  }
  return shards;
}

/** Task for the shard `own` of a step whose pair mask is over `step.crystals`. */
function shardTask(step: Step, own: number[], other: number[], labels: ArrayLike<number>): ShardTask {
  const position = new Map(step.crystals.map((c, i) => [c, i]));
  const all = [...own, ...other];
  const B = all.length;
  const S = step.crystals.length;
  const pairMask = new Float32Array(B * B);
  for (let u = 0; u < own.length; u++) {
    for (let v = u + 1; v < B; v++) {
      const p = position.get(all[u]!)!;
      const q = position.get(all[v]!)!;
      pairMask[u * B + v] = step.pairMask[Math.min(p, q) * S + Math.max(p, q)]!;
    }
  }
  return {
    own,
    other,
    labels: all.map((c) => labels[c]!),
    pairMask,
    pairNormaliser: step.pairCount,
    crystalNormaliser: step.crystals.length,
  };
}

/**
 * The second model thread (gradient-worker.ts, through the bootstrap that registers tsx for .ts):
 * one request at a time; a crashed worker fails the pending request and every later one.
 */
class ModelWorker {
  private readonly worker: Worker;
  private pending: ((reply: WorkerReply) => void) | undefined;
  private failure: Error | undefined;

  constructor(onFailure: () => void = () => {}) {
    const here = fileURLToPath(import.meta.url);
    const entry = new URL(`./gradient-worker${path.extname(here)}`, import.meta.url).href;
    this.worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { workerData: { entry } });
    this.worker.on('message', (reply: WorkerReply) => {
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(reply);
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      onFailure();
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.({ type: 'error', message: error.message });
    });
  }

  request(message: WorkerRequest, what: string): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = (reply) => (reply.type === 'error' ? reject(new Error(`${what}: ${reply.message}`)) : resolve(reply));
      this.worker.postMessage(message);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export class ParallelTrainer {
  private seq = 0;

  private constructor(
    private readonly worker: ModelWorker,
    private readonly channel: ShardChannel,
    private readonly graphs: readonly CrystalGraph[],
  ) {}

  static async start(model: KnagcnModel, graphs: readonly CrystalGraph[]): Promise<ParallelTrainer> {
    const channel = new ShardChannel(graphs.length * embeddingWidth(model.hyperparameters));
    const trainer = new ParallelTrainer(new ModelWorker(() => channel.fail()), channel, graphs);
    // Graph arrays are copied once (structured clone); the main thread keeps its own.
    await trainer.request({ type: 'init', hyperparameters: model.hyperparameters, graphs: [...graphs], channel: channel.buffer });
    return trainer;
  }

  private request(message: WorkerRequest): Promise<WorkerReply> {
    return this.worker.request(message, 'training worker');
  }

  /** Gradients of one step over both threads; the caller applies them. */
  async step(model: KnagcnModel, step: Step, labels: ArrayLike<number>): Promise<StepOutcome> {
    const [mine, theirs] = balanceShards(step.crystals, this.graphs);
    const seq = ++this.seq;
    const weights = [...model.trainable.values()].map((v) => v.dataSync() as Float32Array);
    const remote = this.request({ type: 'step', seq, weights, task: shardTask(step, theirs, mine, labels) });
    remote.catch(() => undefined); // observed below; avoid an unhandled rejection while we compute
    const E = embeddingWidth(model.hyperparameters);
    let local;
    try {
      local = shardGradients(model, this.graphs, shardTask(step, mine, theirs, labels), (own) => this.channel.exchange(0, seq, own, theirs.length * E));
    } catch (error) {
      this.channel.fail();
      throw error;
    }
    const reply = await remote;
    if (reply.type !== 'step') throw new Error(`unexpected worker reply ${reply.type}`);
    const names = [...model.trainable.keys()];
    const grads = new Map<string, tf.Tensor>();
    names.forEach((name, i) => {
      const a = local.grads.get(name);
      const b = reply.grads[i];
      if (a && b) {
        grads.set(name, tf.tidy(() => tf.add(a, tf.tensor(b, a.shape))));
        a.dispose();
      } else if (a) grads.set(name, a);
      else if (b) grads.set(name, tf.tensor(b, model.trainable.get(name)!.shape));
    });
    const statistics = new Map<string, { mean: Float32Array; variance: Float32Array; count: number }>();
    const remoteStats = new Map(reply.statistics.map((s) => [s.name, s]));
    for (const [name, s] of local.statistics) {
      const mineStats = { mean: s.mean.dataSync() as Float32Array, variance: s.variance.dataSync() as Float32Array, count: s.count };
      s.mean.dispose();
      s.variance.dispose();
      const other = remoteStats.get(name);
      statistics.set(name, other ? pool([mineStats, other]) : mineStats);
    }
    return { grads, loss: local.loss + reply.loss - local.crossLoss, atoms: local.atoms + reply.atoms, statistics };
  }

  /** Inference embeddings of `crystals`, half on each thread. */
  async embed(model: KnagcnModel, crystals: readonly number[]): Promise<Float32Array[]> {
    const [mine, theirs] = balanceShards(crystals, this.graphs);
    const remote = this.request({
      type: 'embed',
      weights: [...model.trainable.values()].map((v) => v.dataSync() as Float32Array),
      state: [...model.state.values()].map((v) => v.dataSync() as Float32Array),
      crystals: theirs,
    });
    remote.catch(() => undefined);
    const local = embedStructures(model, mine.map((i) => this.graphs[i]!), { batchSize: 64 });
    const reply = await remote;
    if (reply.type !== 'embed') throw new Error(`unexpected worker reply ${reply.type}`);
    const byCrystal = new Map<number, Float32Array>();
    mine.forEach((c, i) => byCrystal.set(c, local[i]!));
    theirs.forEach((c, i) => byCrystal.set(c, reply.embeddings[i]!));
    return crystals.map((c) => byCrystal.get(c)!);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

function pool(parts: { mean: Float32Array; variance: Float32Array; count: number }[]) {
  const C = parts[0]!.mean.length;
  const n = parts.reduce((a, p) => a + p.count, 0);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let m = 0;
    let second = 0;
    for (const p of parts) {
      m += (p.count * p.mean[c]!) / n;
      second += (p.count * (p.variance[c]! + p.mean[c]! ** 2)) / n;
    }
    mean[c] = m;
    variance[c] = Math.max(0, second - m * m);
  }
  return { mean, variance, count: n };
}

/**
 * Two-thread inference for large embedding jobs (wasm runs single-threaded in Node): each call
 * splits the structures in two halves of near-equal site counts; this thread builds the graphs of
 * one half and embeds them while the worker does the other. The worker gets the weights once, at
 * start (≈ 1–2 s: a thread, the wasm backend, the model), so use it for many structures, not one.
 * Inference embeddings do not depend on the batch a crystal is in (BatchNorm uses the moving
 * statistics), so the result equals embedStructureBatch on one thread up to float rounding.
 */
export class ParallelEmbedder {
  private constructor(
    private readonly worker: ModelWorker,
    private readonly model: KnagcnModel,
  ) {}

  static async start(model: KnagcnModel): Promise<ParallelEmbedder> {
    const embedder = new ParallelEmbedder(new ModelWorker(), model);
    try {
      await embedder.request({
        type: 'load',
        hyperparameters: model.hyperparameters,
        weights: [...model.trainable.values()].map((v) => v.dataSync() as Float32Array),
        state: [...model.state.values()].map((v) => v.dataSync() as Float32Array),
      });
    } catch (error) {
      await embedder.terminate();
      throw error;
    }
    return embedder;
  }

  private request(message: WorkerRequest): Promise<WorkerReply> {
    return this.worker.request(message, 'embedding worker');
  }

  /** Like embedStructureBatch (same order, null + error where a graph fails), on both threads. */
  async embed(structures: readonly Structure[], options: { batchSize?: number } = {}): Promise<StructureEmbeddings> {
    const batchSize = options.batchSize ?? 64;
    const [mine, theirs] = balanceBySites(structures);
    if (theirs.length === 0) return embedStructureBatch(this.model, structures, { batchSize });
    const remote = this.request({ type: 'embedStructures', structures: theirs.map((i) => structures[i]!), batchSize });
    remote.catch(() => undefined); // observed below; avoid an unhandled rejection while this thread computes
    const local = embedStructureBatch(this.model, mine.map((i) => structures[i]!), { batchSize });
    const reply = await remote;
    if (reply.type !== 'embedded') throw new Error(`unexpected worker reply ${reply.type}`);
    const vectors: (Float32Array | null)[] = new Array(structures.length);
    const errors: (string | null)[] = new Array(structures.length);
    mine.forEach((s, r) => ((vectors[s] = local.vectors[r]!), (errors[s] = local.errors[r]!)));
    theirs.forEach((s, r) => ((vectors[s] = reply.vectors[r]!), (errors[s] = reply.errors[r]!)));
    return { vectors, errors };
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Indices of `structures` in two groups of near-equal site counts (greedy, largest first), each in input order. */
function balanceBySites(structures: readonly Structure[]): [number[], number[]] {
  const order = structures.map((_, i) => i).sort((a, b) => structures[b]!.sites.length - structures[a]!.sites.length || a - b);
  const groups: [number[], number[]] = [[], []];
  const load = [0, 0];
  for (const i of order) {
    const side = load[0]! <= load[1]! ? 0 : 1;
    groups[side].push(i);
    load[side]! += structures[i]!.sites.length;
  }
  return [groups[0].sort((a, b) => a - b), groups[1].sort((a, b) => a - b)];
}

/**
 * One or two threads for the next page of an embedding job, by measured throughput: the first
 * page runs on one thread (the worker starts meanwhile), the second on two; then the faster mode
 * serves, and the other is tried again every `probeEvery` pages (the machine's load changes).
 * Measured rather than assumed: where the kernel shares CPU per session (Linux autogroup on a busy
 * machine) a second thread gets no more CPU and its per-page barrier costs; where a core is free it
 * nearly doubles throughput (docs/BENCHMARKS.md).
 */
export class ThreadChoice {
  private readonly rate: Record<1 | 2, number> = { 1: NaN, 2: NaN };
  private pages = 0;

  constructor(private readonly probeEvery = 16) {}

  next(): 1 | 2 {
    this.pages++;
    if (Number.isNaN(this.rate[1])) return 1;
    if (Number.isNaN(this.rate[2])) return 2;
    const best = this.rate[2] > this.rate[1] ? 2 : 1;
    return this.pages % this.probeEvery === 0 ? (best === 2 ? 1 : 2) : best;
  }

  /** A page's throughput in the mode it ran in (a moving average per mode). */
  record(threads: 1 | 2, structures: number, seconds: number): void {
    if (!(structures > 0 && seconds > 0)) return;
    const r = structures / seconds;
    this.rate[threads] = Number.isNaN(this.rate[threads]) ? r : 0.5 * this.rate[threads] + 0.5 * r;
  }
}
