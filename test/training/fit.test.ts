import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nativeKernels } from '../../src/model/native.js';
import { buildCrystalGraph, compositionOnlyGraph, type CrystalGraph } from '../../src/graph/index.js';
import { parseComposition } from '../../src/structure/composition.js';
import { createModel, embedStructures, forward, initBackend, makeGraphBatch, resolveHyperparameters } from '../../src/model/index.js';
import { contrastivePairLoss, pairLossHost } from '../../src/training/loss.js';
import { epochSteps, planPairs, PAIR_TRAIN, PAIR_UNUSED, PAIR_VALIDATION } from '../../src/training/batching.js';
import { fit } from '../../src/training/fit.js';
import { mulberry32 } from '../../src/model/random.js';
import { BadInputError, TrainingDivergedError } from '../../src/errors.js';
import { loadObelix } from '../support/obelix.js';
import { randomCrystal } from '../support/crystals.js';

const small = resolveHyperparameters({ objective: 'CONTRASTIVE', k: 8, featureLength: 16, denseLength: 16, embeddingDim: 8, seed: 5 });

/** The n smallest OBELiX crystals of each class (fast to train on). */
function smallObelix(perClass: number): { graphs: CrystalGraph[]; labels: (0 | 1)[] } {
  const rows = loadObelix();
  const pick = (label: 0 | 1) =>
    rows.filter((r) => r.label === label).sort((a, b) => a.structure.sites.length - b.structure.sites.length).slice(0, perClass);
  const chosen = [...pick(1), ...pick(0)];
  return { graphs: chosen.map((r) => buildCrystalGraph(r.structure, { k: 8 })), labels: chosen.map((r) => r.label) };
}

for (const distance of ['EUCLIDEAN', 'COSINE'] as const) {
  test(`in-batch pair loss equals the naive two-forward-pass per-pair loss (${distance})`, async () => {
    await initBackend('wasm');
    const h = { ...small, distance, margin: distance === 'COSINE' ? 0.5 : 2 };
    const model = createModel(h);
    try {
      const graphs = [1, 2, 3, 4, 5, 6].map((seed) => buildCrystalGraph(randomCrystal(seed, 4), { k: 8 }));
      const labels = [1, 0, 0, 1, 0, 1];
      const B = graphs.length;
      const mask = new Float32Array(B * B);
      let pairs = 0;
      for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) if ((a + b) % 3 !== 0) { mask[a * B + b] = 1; pairs++; }
      const batch = makeGraphBatch(graphs, 8, h.gaussian);
      const inBatch = tf.tidy(() => contrastivePairLoss(forward(model, batch).embedding, labels, mask, h).dataSync()[0]!);
      batch.dispose();
      // Naive Siamese: every pair runs both towers separately.
      let naive = 0;
      for (let a = 0; a < B; a++) {
        for (let b = a + 1; b < B; b++) {
          if (!mask[a * B + b]) continue;
          const [ea] = embedStructures(model, [graphs[a]!]);
          const [eb] = embedStructures(model, [graphs[b]!]);
          naive += pairLossHost(ea!, eb!, labels[a] !== labels[b], h);
        }
      }
      naive /= pairs;
      assert.ok(naive > 1e-3, 'loss is not trivially zero');
      assert.ok(Math.abs(inBatch - naive) < 1e-4 * Math.max(1, naive), `${inBatch} vs ${naive}`);
    } finally {
      model.dispose();
    }
  });
}

test('pair plans: paper pair split, crystal-disjoint split, and exact block-pair coverage', () => {
  const labels = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const paper = planPairs(labels, { mode: 'pairs' }, 1);
  assert.equal(paper.trainPairCount + paper.validationPairCount, (40 * 39) / 2);
  assert.equal(paper.validationPairCount, Math.round(0.1 * 780));
  for (let i = 0; i < 40; i++) assert.equal(paper.pairRole[i * 40 + i], PAIR_UNUSED, 'self-pairs are never counted');
  const disjoint = planPairs(labels, { mode: 'crystals' }, 1);
  assert.equal(disjoint.heldOutCrystals.length, 4);
  assert.ok(disjoint.heldOutCrystals.some((i) => labels[i] === 1) && disjoint.heldOutCrystals.some((i) => labels[i] === 0));
  for (const i of disjoint.heldOutCrystals) assert.ok(!disjoint.trainCrystals.includes(i));
  for (let a = 0; a < 40; a++) {
    for (let b = a + 1; b < 40; b++) {
      const touches = disjoint.heldOutCrystals.includes(a) || disjoint.heldOutCrystals.includes(b);
      assert.equal(disjoint.pairRole[a * 40 + b], touches ? PAIR_VALIDATION : PAIR_TRAIN);
    }
  }
  // block-pairs: every training pair scored exactly once per epoch.
  const seen = new Map<number, number>();
  for (const step of epochSteps(paper, 'block-pairs', 8, mulberry32(2))) {
    const B = step.crystals.length;
    for (let u = 0; u < B; u++) for (let v = 0; v < B; v++) {
      if (!step.pairMask[u * B + v]) continue;
      const a = Math.min(step.crystals[u]!, step.crystals[v]!);
      const b = Math.max(step.crystals[u]!, step.crystals[v]!);
      seen.set(a * 40 + b, (seen.get(a * 40 + b) ?? 0) + 1);
    }
  }
  assert.equal(seen.size, paper.trainPairCount);
  assert.ok([...seen.values()].every((c) => c === 1));
  for (const [p] of seen) assert.equal(paper.pairRole[p], PAIR_TRAIN);
});

test('a short contrastive run on 16 crystals lowers the loss and separates the classes', async () => {
  const { graphs, labels } = smallObelix(8);
  await initBackend('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const result = await fit(graphs, labels, { ...small, maxEpochs: 25, patience: 100, batchSize: 8, learningRate: 3e-3 }, { validation: { mode: 'none' }, backend: 'wasm' });
  try {
    const first = result.curve[0]!.trainLoss;
    const last = result.curve.at(-1)!.trainLoss;
    assert.ok(last < 0.5 * first, `train loss ${first} → ${last}`);
    const e = embedStructures(result.model, graphs);
    let intra = 0, inter = 0, nIntra = 0, nInter = 0;
    for (let a = 0; a < e.length; a++) for (let b = a + 1; b < e.length; b++) {
      const d = Math.sqrt(e[a]!.reduce((s, x, i) => s + (x - e[b]![i]!) ** 2, 0));
      if (labels[a] === labels[b]) { intra += d; nIntra++; } else { inter += d; nInter++; }
    }
    assert.ok(intra / nIntra < inter / nInter, `mean intra ${intra / nIntra} vs inter ${inter / nInter}`);
    // The model records the backend, and OpenBLAS when it ran the products (src/model/native.ts).
    assert.equal(result.backend, nativeKernels() ? 'wasm+openblas' : 'wasm');
  } finally {
    result.model.dispose();
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'fit + embed + dispose leaves no tensors behind');
});

test('early stopping restores the best epoch; same seed gives the same curve', async () => {
  const { graphs, labels } = smallObelix(5);
  const h = { ...small, maxEpochs: 6, patience: 2, batchSize: 5 };
  const runs = [];
  for (let r = 0; r < 2; r++) {
    const result = await fit(graphs, labels, h, { validation: { mode: 'pairs', fraction: 0.2 }, backend: 'wasm' });
    runs.push(result);
    const best = Math.min(...result.curve.map((p) => p.validationLoss));
    assert.equal(result.curve[result.bestEpoch - 1]!.validationLoss, best);
    assert.ok(result.curve.length <= h.maxEpochs);
    if (result.curve.length < h.maxEpochs) assert.equal(result.curve.length - result.bestEpoch, h.patience);
    // The returned weights are the best epoch's: recomputing the validation loss reproduces it.
    const plan = planPairs(labels, { mode: 'pairs', fraction: 0.2 }, result.hyperparameters.seed);
    const e = embedStructures(result.model, graphs);
    let sum = 0;
    for (let a = 0; a < plan.n; a++) for (let b = a + 1; b < plan.n; b++) {
      if (plan.pairRole[a * plan.n + b] === PAIR_VALIDATION) sum += pairLossHost(e[a]!, e[b]!, labels[a] !== labels[b], result.hyperparameters);
    }
    assert.ok(Math.abs(sum / plan.validationPairCount - best) < 1e-6 * Math.max(1, best));
  }
  assert.deepEqual(runs[0]!.curve, runs[1]!.curve);
  for (const r of runs) r.model.dispose();
});

test('CROSS_ENTROPY and JOINT objectives train with a classification head', async () => {
  const { graphs, labels } = smallObelix(4);
  for (const objective of ['CROSS_ENTROPY', 'JOINT'] as const) {
    const result = await fit(graphs, labels, { ...small, objective, maxEpochs: 2, batchSize: 8 }, { validation: { mode: 'explicit', validationCrystals: [0, 7] }, backend: 'wasm' });
    assert.equal(result.curve.length, 2);
    assert.ok(result.curve.every((p) => Number.isFinite(p.trainLoss) && Number.isFinite(p.validationLoss)));
    result.model.dispose();
  }
  await assert.rejects(fit(graphs, labels, { ...small, objective: 'CROSS_ENTROPY' }, { validation: { mode: 'pairs' } }), BadInputError);
});

test('bad input, NaN loss and abort are reported clearly', async () => {
  const { graphs, labels } = smallObelix(3);
  await assert.rejects(fit(graphs, labels.map(() => 0), small), BadInputError);
  await assert.rejects(fit(graphs, [1, 0, 0, 0, 0, 0], small), /at least 2 FAST and 2 POOR/);
  await assert.rejects(fit(graphs.slice(1), labels, small), BadInputError);
  const poisoned = graphs.map((g, i) => (i === 0 ? { ...g, neighbourDistance: new Float32Array(g.neighbourDistance.length).fill(NaN) } : g));
  await assert.rejects(fit(poisoned, labels, { ...small, maxEpochs: 1 }, { validation: { mode: 'none' } }), /training diverged: loss is NaN at epoch 1, step 1/);
  // An absurd learning rate: finite first loss, then the next forward pass overflows. Deterministic.
  await assert.rejects(fit(graphs, labels, { ...small, learningRate: 1e30, maxEpochs: 5 }, { validation: { mode: 'none' }, backend: 'wasm' }), (error: unknown) => {
    assert.ok(error instanceof TrainingDivergedError, String(error));
    assert.match(error.message, /^training diverged: .* at epoch \d+/);
    assert.ok(error.divergence.epoch >= 1 && error.divergence.epoch <= 5);
    return true;
  });
  // With held-out crystals the first epoch's validation loss catches it.
  await assert.rejects(fit(graphs, labels, { ...small, learningRate: 1e30, maxEpochs: 5 }, { validation: { mode: 'explicit', validationCrystals: [0, 5] }, backend: 'wasm' }), /training diverged: validation loss is NaN at epoch 1/);
  const controller = new AbortController();
  controller.abort(new Error('stopped by test'));
  await assert.rejects(fit(graphs, labels, small, { signal: controller.signal }), /stopped by test/);
});

test('the composition warm-up trains the composition pathway on the formula-only rows first', async () => {
  // 24 formulas of each class (formula-only graphs: no atoms) and 4 small structures of each.
  const rows = loadObelix();
  const formulaRows = [...rows.filter((r) => r.label === 1).slice(0, 24), ...rows.filter((r) => r.label === 0).slice(0, 24)];
  const pick = (label: 0 | 1) => rows.filter((r) => r.label === label).sort((a, b) => a.structure.sites.length - b.structure.sites.length).slice(0, 4);
  const structures = [...pick(1), ...pick(0)];
  const smooth = { k: 8, neighbourhood: 'smooth', marginAngstrom: 0.5 } as const;
  const graphs = [
    ...formulaRows.map((r) => compositionOnlyGraph(parseComposition(r.formula).amounts, 8)),
    ...structures.map((r) => buildCrystalGraph(r.structure, smooth)),
  ];
  const labels = [...formulaRows.map((r) => r.label), ...structures.map((r) => r.label)];
  const h = { ...small, backbone: 'knagcn-smooth', objective: 'CROSS_ENTROPY', compositionDescriptors: true, maxEpochs: 1, batchSize: 16 } as const;
  const options = { validation: { mode: 'none' }, backend: 'wasm' } as const;
  const cold = await fit(graphs, labels, { ...h, compositionEpochs: 0 }, options);
  const warm = await fit(graphs, labels, { ...h, compositionEpochs: 40 }, options);
  try {
    // The joint epoch starts from a composition pathway that already separates the classes.
    assert.ok(warm.curve[0]!.trainLoss < cold.curve[0]!.trainLoss - 0.05, `warm ${warm.curve[0]!.trainLoss} vs cold ${cold.curve[0]!.trainLoss}`);
    assert.equal(warm.curve.length, 1, 'warm-up epochs are not joint epochs');
  } finally {
    cold.model.dispose();
    warm.model.dispose();
  }
  await assert.rejects(fit(graphs, labels, { ...small, compositionEpochs: 5 }, options), /compositionEpochs needs the knagcn-smooth backbone/);
});
