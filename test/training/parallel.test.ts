import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildCrystalGraph } from '../../src/graph/index.js';
import { createModel, embedStructureBatch, forward, initBackend, makeGraphBatch, resolveHyperparameters } from '../../src/model/index.js';
import { contrastivePairLoss } from '../../src/training/loss.js';
import { balanceShards, ParallelEmbedder, ParallelTrainer, ThreadChoice } from '../../src/training/parallel.js';
import { fit } from '../../src/training/fit.js';
import type { Step } from '../../src/training/batching.js';
import { randomCrystal } from '../support/crystals.js';

const h = resolveHyperparameters({ objective: 'CONTRASTIVE', k: 8, featureLength: 16, denseLength: 16, embeddingDim: 8, seed: 9 });

test('two-thread step: summed shard gradients equal the gradient of the whole in-batch loss', async () => {
  await initBackend('wasm');
  const graphs = [1, 2, 3, 4, 5, 6, 7].map((seed) => buildCrystalGraph(randomCrystal(seed, 3 + (seed % 4)), { k: 8 }));
  const labels = [1, 0, 1, 0, 0, 1, 0];
  const crystals = [0, 1, 2, 3, 4, 5, 6];
  const B = crystals.length;
  const pairMask = new Float32Array(B * B);
  let pairCount = 0;
  for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) if ((a * 3 + b) % 4 !== 1) { pairMask[a * B + b] = 1; pairCount++; }
  const step: Step = { crystals, pairMask, pairCount };
  const model = createModel(h);
  const trainer = await ParallelTrainer.start(model, graphs);
  try {
    const outcome = await trainer.step(model, step, labels);
    // Reference on one thread: both shards' forwards (each with its own BN statistics) on one tape.
    const [mine, theirs] = balanceShards(crystals, graphs);
    const order = [...mine, ...theirs];
    const position = order.map((c) => crystals.indexOf(c));
    const mask = new Float32Array(B * B);
    for (let u = 0; u < B; u++) for (let v = u + 1; v < B; v++) {
      const p = Math.min(position[u]!, position[v]!), q = Math.max(position[u]!, position[v]!);
      mask[u * B + v] = pairMask[p * B + q]!;
    }
    const batches = [mine, theirs].map((s) => makeGraphBatch(s.map((i) => graphs[i]!), h.k, h.gaussian));
    const { value, grads } = tf.variableGrads(() => {
      const e = tf.concat(batches.map((b) => forward(model, b, new Map()).embedding), 0) as tf.Tensor2D;
      return contrastivePairLoss(e, order.map((c) => labels[c]!), mask, h, pairCount);
    }, [...model.trainable.values()]);
    assert.ok(Math.abs(value.dataSync()[0]! - outcome.loss) < 1e-5 * Math.max(1, outcome.loss), `loss ${value.dataSync()[0]} vs ${outcome.loss}`);
    for (const [name, v] of model.trainable) {
      const want = grads[v.name]!.dataSync();
      const got = outcome.grads.get(name)!.dataSync();
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1e-3, Math.abs(want[i]!)));
      assert.ok(worst < 1e-3, `${name}: relative gradient error ${worst}`);
    }
    // Validation embeddings split across threads equal single-thread ones.
    const { embedStructures } = await import('../../src/model/index.js');
    const split = await trainer.embed(model, crystals);
    const single = embedStructures(model, graphs);
    split.forEach((e, i) => e.forEach((x, j) => assert.ok(Math.abs(x - single[i]![j]!) < 1e-5)));
  } finally {
    await trainer.terminate();
    model.dispose();
  }
});

test('two-thread fit is deterministic and learns', async () => {
  const graphs = Array.from({ length: 12 }, (_, i) => buildCrystalGraph(randomCrystal(100 + i, 4 + (i % 3), i % 2 ? ['Li', 'S', 'P'] : ['Na', 'O', 'Si']), { k: 8 }));
  const labels = graphs.map((_, i) => (i % 2) as 0 | 1);
  const runs = [];
  for (let r = 0; r < 2; r++) {
    runs.push(await fit(graphs, labels, { ...h, maxEpochs: 8, batchSize: 12, learningRate: 3e-3 }, { validation: { mode: 'none' }, threads: 2, backend: 'wasm' }));
  }
  assert.equal(runs[0]!.threads, 2);
  assert.deepEqual(runs[0]!.curve, runs[1]!.curve);
  const curve = runs[0]!.curve;
  assert.ok(curve.at(-1)!.trainLoss < curve[0]!.trainLoss, `${curve[0]!.trainLoss} → ${curve.at(-1)!.trainLoss}`);
  for (const r of runs) r.model.dispose();
});

test('two-thread inference: ParallelEmbedder gives embedStructureBatch results in input order, failures in place', async () => {
  await initBackend('wasm');
  // Varied sizes so the two halves differ; one structure with a singular cell cannot have a graph.
  const structures = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((seed) => randomCrystal(seed, 2 + (seed % 5)));
  structures.splice(4, 0, { lattice: [[1, 0, 0], [2, 0, 0], [0, 0, 1]], sites: structures[0]!.sites });
  const model = createModel({ ...h, seed: 3 });
  const embedder = await ParallelEmbedder.start(model);
  try {
    const single = embedStructureBatch(model, structures, { batchSize: 4 });
    const both = await embedder.embed(structures, { batchSize: 4 });
    assert.equal(both.vectors.length, structures.length);
    assert.equal(both.vectors[4], null);
    assert.match(both.errors[4] ?? '', /singular/);
    const assertClose = (got: Float32Array, want: Float32Array, what: string) => {
      assert.equal(got.length, want.length, what);
      for (let c = 0; c < want.length; c++) assert.ok(Math.abs(got[c]! - want[c]!) <= 1e-5 * Math.max(1, Math.abs(want[c]!)), `${what} component ${c}`);
    };
    for (let i = 0; i < structures.length; i++) {
      if (i === 4) continue;
      assert.equal(both.errors[i], null);
      assert.equal(both.vectors[i]!.length, h.embeddingDim);
      assertClose(both.vectors[i]!, single.vectors[i]!, `structure ${i}`);
    }
    // The worker keeps the weights between calls.
    const again = await embedder.embed(structures.slice(0, 3));
    again.vectors.forEach((v, i) => assertClose(v!, single.vectors[i]!, `second call, structure ${i}`));
  } finally {
    await embedder.terminate();
    model.dispose();
  }
});

test('ThreadChoice: one thread, then a trial of two; the faster serves and the other is retried now and then', () => {
  const choice = new ThreadChoice(4);
  assert.equal(choice.next(), 1); // page 1
  choice.record(1, 64, 2); // 32/s
  assert.equal(choice.next(), 2); // page 2: the trial
  choice.record(2, 64, 4); // 16/s: a busy machine, no gain
  assert.deepEqual([choice.next(), choice.next()], [1, 2]); // page 3 on one thread; page 4 retries two
  choice.record(2, 64, 0.5); // 128/s, a core came free (moving average with 16/s: 72/s)
  assert.deepEqual([choice.next(), choice.next(), choice.next(), choice.next()], [2, 2, 2, 1]); // page 8 retries one
  choice.record(1, 0, 1); // empty pages are not timed
  assert.equal(choice.next(), 2);
});
