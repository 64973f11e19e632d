import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/model/backend.js';
import { setIonsieveKernelsEnabled } from '../../src/model/kernels.js';
import { batchNormTrain, columnBlock, gatedSoftplus, linear, linearConstInput, meanPool, slotMix, transpose2D } from '../../src/model/ops.js';
import { mulberry32 } from '../../src/model/random.js';

const TOLERANCE = 1e-4;

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const r = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => 2 * r() - 1), shape);
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tol = TOLERANCE) {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!)));
  assert.ok(worst <= tol, `${what}: max relative error ${worst}`);
}

/** Value and gradients of sum(out ⊙ weights) w.r.t. the inputs, for a function of tensors. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number) {
  return tf.tidy(() => {
    const out = f(...inputs);
    const weights = randomTensor(out.shape, seed);
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)));
    return { value: tf.keep(out), grads: g(inputs).map((t) => tf.keep(t)) };
  });
}

const N = 37;
const F = 6;
const S = 5; // 4 neighbours + self
const index = () => tf.tensor1d(Int32Array.from({ length: N * S }, (_, i) => (i % S === S - 1 ? Math.floor(i / S) : (i * 7 + 3) % N)), 'int32');

/** Reference §3.2 map with plain tfjs ops: u = reshape(gather(h, index), [N, S·F])·w. */
function slotMixReference(h: tf.Tensor, w: tf.Tensor, idx: tf.Tensor1D) {
  return tf.matMul(tf.reshape(tf.gather(h, idx), [N, S * F]), w as tf.Tensor2D);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: custom-gradient ops match plain tfjs autodiff (values and gradients)`, async () => {
    await initBackend(backend);
    assert.equal(tf.getBackend(), backend);
    const idx = index();
    const h = randomTensor([N, F], 1);
    const w = randomTensor([S * F, 2 * F], 2);
    const cases: [string, (...xs: tf.Tensor[]) => tf.Tensor, (...xs: tf.Tensor[]) => tf.Tensor, tf.Tensor[]][] = [
      ['slotMix', (a, b) => slotMix(a as tf.Tensor2D, b as tf.Tensor2D, idx, S), (a, b) => slotMixReference(a!, b!, idx), [h, w]],
      ['linear+bias', (a, b, c) => linear(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor1D), (a, b, c) => tf.add(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), c!), [h, randomTensor([F, 3], 3), randomTensor([3], 4)]],
      ['gatedSoftplus', (a) => gatedSoftplus(tf.mul(a!, 4) as tf.Tensor2D), (a) => {
        const [g, c] = tf.split(tf.mul(a!, 4), 2, 1);
        return tf.mul(tf.sigmoid(g!), tf.softplus(c!));
      }, [h]],
      ['columnBlock', (a) => tf.mul(columnBlock(a as tf.Tensor2D, 2, 3), 2), (a) => tf.mul(tf.slice(a!, [0, 2], [N, 3]), 2), [h]],
      ['batchNorm', (a, g, b) => batchNormTrain(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D).y, (a, g, b) => {
        const m = tf.moments(a!, 0);
        return tf.add(tf.mul(tf.div(tf.sub(a!, m.mean), tf.sqrt(tf.add(m.variance, 1e-5))), g!), b!);
      }, [tf.mul(h, 3), randomTensor([F], 5), randomTensor([F], 6)]],
    ];
    for (const [name, fast, reference, inputs] of cases) {
      const got = valueAndGrads(fast, inputs, 9);
      const want = valueAndGrads(reference, inputs, 9);
      assertClose(got.value, want.value, `${name} value`);
      got.grads.forEach((g, i) => assertClose(g, want.grads[i]!, `${name} grad ${i}`));
    }
    // Constant-input linear and mean pooling: gradient w.r.t. the weights / atom rows only.
    const x = randomTensor([N, 4], 7) as tf.Tensor2D;
    const wc = randomTensor([4, 3], 8);
    // Transposes are made outside the differentiated function: custom gradients capture them by closure.
    const xT = transpose2D(x);
    const gotC = valueAndGrads((a) => linearConstInput(x, xT, a as tf.Tensor2D), [wc], 10);
    const wantC = valueAndGrads((a) => tf.matMul(x, a as tf.Tensor2D), [wc], 10);
    assertClose(gotC.value, wantC.value, 'linearConstInput value');
    assertClose(gotC.grads[0]!, wantC.grads[0]!, 'linearConstInput grad');
    const pool = tf.tensor2d(Float32Array.from({ length: 2 * N }, (_, i) => (i < N ? (i < 20 ? 1 / 20 : 0) : i - N >= 20 ? 1 / (N - 20) : 0)), [2, N]);
    const poolT = transpose2D(pool);
    const gotP = valueAndGrads((a) => meanPool(a as tf.Tensor2D, pool, poolT), [h], 11);
    const wantP = valueAndGrads((a) => tf.stack([tf.mean(tf.slice(a!, [0, 0], [20, F]), 0), tf.mean(tf.slice(a!, [20, 0], [N - 20, F]), 0)]), [h], 11);
    assertClose(gotP.value, wantP.value, 'meanPool value');
    assertClose(gotP.grads[0]!, wantP.grads[0]!, 'meanPool grad');
  });
}

test('wasm UnsortedSegmentSum kernel matches the cpu backend', async () => {
  const x = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]];
  const ids = [2, 0, 2, -1, 1];
  const results: number[][] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    results.push([...tf.unsortedSegmentSum(tf.tensor2d(x), tf.tensor1d(ids, 'int32'), 4).dataSync()]);
    // gather's gradient goes through UnsortedSegmentSum: repeated indices must accumulate.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([0, 0, 2, 1, 0], 'int32'))))(tf.tensor1d([1, 2, 3]));
    results.push([...g.dataSync()]);
  }
  assert.deepEqual(results[2], results[0]);
  assert.deepEqual(results[3], results[1]);
  assert.deepEqual(results[1], [3, 1, 1]);
});

test('composite fallbacks (native backends) give the same whole-model loss and gradients', async () => {
  await initBackend('wasm');
  const { createModel, resolveHyperparameters } = await import('../../src/model/index.js');
  const { buildCrystalGraph } = await import('../../src/graph/index.js');
  const { shardGradients } = await import('../../src/training/step.js');
  const { randomCrystal } = await import('../support/crystals.js');
  const h = resolveHyperparameters({ k: 4, featureLength: 8, denseLength: 8, embeddingDim: 4, objective: 'JOINT' });
  const model = createModel(h);
  const graphs = [1, 2, 3, 4].map((seed) => buildCrystalGraph(randomCrystal(seed, 4), { k: 4 }));
  const mask = new Float32Array(16).map((_, p) => (Math.floor(p / 4) < p % 4 ? 1 : 0));
  const task = { own: [0, 1, 2, 3], other: [], labels: [1, 0, 1, 0], pairMask: mask, pairNormaliser: 6, crystalNormaliser: 4 };
  const run = () => {
    const r = shardGradients(model, graphs, task);
    for (const s of r.statistics.values()) { s.mean.dispose(); s.variance.dispose(); }
    return r;
  };
  const fast = run();
  setIonsieveKernelsEnabled(false);
  let slow;
  try {
    slow = run();
  } finally {
    setIonsieveKernelsEnabled(true);
  }
  assert.ok(Math.abs(fast.loss - slow.loss) < 1e-5 * Math.max(1, fast.loss));
  for (const [name, g] of fast.grads) assertClose(g, slow.grads.get(name)!, `grad ${name}`, 1e-3);
  model.dispose();
});

test('composite fallbacks (native backends) compute the same slotMix', async () => {
  await initBackend('wasm');
  const idx = index();
  const h = randomTensor([N, F], 12);
  const w = randomTensor([S * F, 2 * F], 13);
  const fast = valueAndGrads((a, b) => slotMix(a as tf.Tensor2D, b as tf.Tensor2D, idx, S), [h, w], 14);
  setIonsieveKernelsEnabled(false);
  try {
    const slow = valueAndGrads((a, b) => slotMix(a as tf.Tensor2D, b as tf.Tensor2D, idx, S), [h, w], 14);
    assertClose(fast.value, slow.value, 'value');
    fast.grads.forEach((g, i) => assertClose(g, slow.grads[i]!, `grad ${i}`));
  } finally {
    setIonsieveKernelsEnabled(true);
  }
});
