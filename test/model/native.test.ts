/**
 * The optional native kernels (native/ionsieve_native.c, src/model/native.ts) against the paths
 * they replace: OpenBLAS matMul against XNNPACK, the compiled loops against the JS kernels, a whole
 * training step's loss and gradients with and without the addon, and bad calls refused without
 * writing. CI builds the addon (`npm run build:native`), so there the tests must not skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildCrystalGraph } from '../../src/graph/index.js';
import { backendLabel, initBackend } from '../../src/model/backend.js';
import { createModel, resolveHyperparameters } from '../../src/model/index.js';
import { nativeKernels, nativeUnavailableReason, setNativeKernelsEnabled } from '../../src/model/native.js';
import { fastTransposedMatMul, matMulProvider } from '../../src/model/native-matmul.js';
import { batchNormTrain, columnBlock, gatedSoftplus, gatherRows, slotMix, slotMixTyped, sumRows } from '../../src/model/ops.js';
import { makeGraphBatch } from '../../src/model/batch.js';
import { mulberry32 } from '../../src/model/random.js';
import { shardGradients } from '../../src/training/step.js';
import { loadObelix } from '../support/obelix.js';

const built = nativeKernels() !== undefined;
const skip = built ? false : `native kernels not built: ${nativeUnavailableReason()}`;

function random(shape: number[], seed: number, special: number[] = []): tf.Tensor {
  const r = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, () => 6 * r() - 3);
  special.forEach((v, i) => (values[(i * 7919) % size] = v));
  return tf.tensor(values, shape);
}

/** Runs f with the addon on and off; returns both results as host arrays. */
function bothWays(f: () => tf.Tensor | tf.Tensor[]): [Float32Array[], Float32Array[]] {
  const run = (on: boolean) => {
    setNativeKernelsEnabled(on);
    try {
      return tf.tidy(() => [f()].flat().map((t) => t.dataSync() as Float32Array));
    } finally {
      setNativeKernelsEnabled(true);
    }
  };
  return [run(true), run(false)];
}

function assertClose(native: Float32Array, js: Float32Array, what: string, tolerance: number) {
  assert.equal(native.length, js.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < js.length; i++) {
    if (Number.isNaN(js[i]!) || Number.isNaN(native[i]!)) {
      assert.ok(Number.isNaN(js[i]!) && Number.isNaN(native[i]!), `${what}[${i}]: NaN on one side only (${native[i]} vs ${js[i]})`);
      continue;
    }
    if (!Number.isFinite(js[i]!)) {
      assert.equal(native[i], js[i], `${what}[${i}]`);
      continue;
    }
    worst = Math.max(worst, Math.abs(native[i]! - js[i]!) / Math.max(1, Math.abs(js[i]!)));
  }
  assert.ok(worst <= tolerance, `${what}: max relative difference ${worst} > ${tolerance}`);
}

test('CI builds the native kernels and the wasm backend uses them', { skip: process.env.CI ? false : 'outside CI the addon is optional' }, async () => {
  assert.ok(built, `CI must build native/: ${nativeUnavailableReason()}`);
  const info = await initBackend('wasm');
  assert.equal(info.matMul?.name, 'openblas');
  assert.equal(backendLabel(info), 'wasm+openblas');
});

test('OpenBLAS matMul equals XNNPACK for every transpose combination, batches and edge shapes', { skip }, async () => {
  await initBackend('wasm');
  assert.equal(matMulProvider().name, 'openblas');
  assert.match(matMulProvider().detail!, /OpenBLAS/);
  const cases: [number[], number[], boolean, boolean][] = [
    [[37, 53], [53, 19], false, false],
    [[53, 37], [53, 19], true, false],
    [[37, 53], [19, 53], false, true],
    [[53, 37], [19, 53], true, true],
    [[3, 11, 7], [3, 7, 5], false, false], // batched
    [[3, 7, 11], [7, 5], true, false], // shared right operand
    [[1, 1], [1, 1], false, false],
    [[0, 4], [4, 3], false, false], // empty
    [[2, 5], [5, 0], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const [native, xnn] = bothWays(() => tf.matMul(random(sa, 1) as tf.Tensor2D, random(sb, 2) as tf.Tensor2D, ta, tb));
    assertClose(native[0]!, xnn[0]!, `matMul ${sa}×${sb} ${ta} ${tb}`, 1e-5);
  }
  // Broadcasting batch shapes go to tfjs's own kernel, with the same answer.
  const [native, xnn] = bothWays(() => tf.matMul(random([1, 4, 6], 3), random([2, 6, 3], 4)));
  assertClose(native[0]!, xnn[0]!, 'broadcast batch', 1e-5);
  assert.throws(() => tf.matMul(random([3, 4], 5) as tf.Tensor2D, random([5, 2], 6) as tf.Tensor2D), /inner shapes|must match/);
});

test('native gather, scatter, column sums and gated softplus equal the JS kernels, NaN and ∞ included', { skip }, async () => {
  await initBackend('wasm');
  const slots = 5;
  const h = random([23, 8], 7, [NaN, Infinity, -Infinity]);
  const r = mulberry32(8);
  const index = tf.tensor1d(Int32Array.from({ length: 17 * slots }, () => Math.floor(r() * 23)), 'int32');
  const w = random([slots * 8, 6], 9);
  // slotMix forward (gather) and backward (scatter; transposed products with OpenBLAS).
  const [nativeMix, jsMix] = bothWays(() => {
    const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(slotMix(hh as tf.Tensor2D, ww as tf.Tensor2D, index, slots), random([17, 6], 10))))([random([23, 8], 11), w]);
    return [value, ...grads];
  });
  nativeMix.forEach((v, i) => assertClose(v, jsMix[i]!, `slotMix output/gradient ${i}`, 1e-5));
  const [nativeGather, jsGather] = bothWays(() => slotMix(h as tf.Tensor2D, tf.eye(slots * 8) as tf.Tensor2D, index, slots));
  assertClose(nativeGather[0]!, jsGather[0]!, 'gather with NaN/∞ rows', 0);

  const x = random([301, 13], 12, [NaN]);
  const [nativeSum, jsSum] = bothWays(() => sumRows(x as tf.Tensor2D));
  assertClose(nativeSum[0]!, jsSum[0]!, 'column sums', 1e-7);

  // Every (gate, core) pair of special and ordinary values, then random rows with gradients.
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-30, 1, -1, 20, -20, 88, -88, 100, -100, 1e30];
  const grid = new Float32Array(specials.length * specials.length * 2);
  specials.forEach((p, i) => specials.forEach((s, j) => grid.set([p, s], (i * specials.length + j) * 2)));
  const [nativeGate, jsGate] = bothWays(() => {
    const u = tf.tensor2d(grid, [specials.length ** 2, 2]);
    const { value, grads } = tf.valueAndGrads((ui: tf.Tensor) => tf.sum(gatedSoftplus(ui as tf.Tensor2D)))([u]);
    return [gatedSoftplus(u), value, grads[0]!];
  });
  assertClose(nativeGate[0]!, jsGate[0]!, 'gated softplus on special values', 1e-6);
  assertClose(nativeGate[2]!, jsGate[2]!, 'its gradient on special values', 1e-6);
  const [nativeBn, jsBn] = bothWays(() => {
    const u = random([257, 24], 13);
    const { value, grads } = tf.valueAndGrads((ui: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(gatedSoftplus(columnBlock(batchNormTrain(ui as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D).y, 0, 24)), random([257, 12], 14))),
    )([u, tf.ones([24]), tf.zeros([24])]);
    return [value, ...grads];
  });
  nativeBn.forEach((v, i) => assertClose(v, jsBn[i]!, `batch norm + gate, output/gradient ${i}`, 1e-5));
});

test('the first layer over distinct atom types equals slotMix over all atoms, value and gradients', { skip }, async () => {
  await initBackend('wasm');
  const slots = 4;
  const D = 5;
  const N = 23;
  const r = mulberry32(21);
  const atomType = Int32Array.from({ length: N }, () => Math.floor(r() * D));
  const neighbour = Int32Array.from({ length: N * slots }, (_, j) => (j % slots === slots - 1 ? Math.floor(j / slots) : Math.floor(r() * N)));
  const typedIndex = tf.tensor1d(Int32Array.from(neighbour, (atom, j) => (j % slots) * D + atomType[atom]!), 'int32');
  const index = tf.tensor1d(neighbour, 'int32');
  const types = tf.tensor1d(atomType, 'int32');
  const weights = random([N, 12], 22);
  const [typed, plain] = [true, false].map((useTypes) =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((h: tf.Tensor, w: tf.Tensor) => {
        const u = useTypes
          ? slotMixTyped(h as tf.Tensor2D, w as tf.Tensor2D, typedIndex, slots)
          : slotMix(gatherRows(h as tf.Tensor2D, types), w as tf.Tensor2D, index, slots);
        return tf.sum(tf.mul(u, weights));
      })([random([D, 6], 23), random([slots * 6, 12], 24)]);
      return [value, ...grads].map((t) => t.dataSync() as Float32Array);
    }),
  );
  typed!.forEach((v, i) => assertClose(v, plain![i]!, `typed slot map output/gradient ${i}`, 1e-5));
  // Batches of real crystals carry the layout, with far fewer distinct rows than atoms.
  const rows = loadObelix().slice(0, 20);
  const batch = makeGraphBatch(rows.map((row) => buildCrystalGraph(row.structure, { k: 8 })), 8, resolveHyperparameters({ k: 8 }).gaussian);
  try {
    assert.ok(batch.typed, 'the typed layout is built where the native kernels run');
    assert.ok(batch.typed.x92.shape[0] < batch.numAtoms / 4, `${batch.typed.x92.shape[0]} distinct rows for ${batch.numAtoms} atoms`);
  } finally {
    batch.dispose();
  }
  assert.throws(() => nativeKernels()!.slotMixTyped(new Float32Array(12), new Float32Array(4 * 2 * 12), Int32Array.from([0, 99]), new Float32Array(12), 1, 2, 2, 3), RangeError);
});

test('a training step gives the same loss and gradients with and without the addon; a NaN input still gives a NaN loss', { skip }, async () => {
  await initBackend('wasm');
  const h = resolveHyperparameters({ objective: 'JOINT', k: 8, featureLength: 16, denseLength: 16, embeddingDim: 8, seed: 3 });
  const rows = loadObelix().sort((a, b) => a.structure.sites.length - b.structure.sites.length).slice(0, 6);
  const graphs = rows.map((row) => buildCrystalGraph(row.structure, { k: 8 }));
  const model = createModel(h);
  const B = graphs.length;
  const pairMask = new Float32Array(B * B);
  for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) pairMask[a * B + b] = 1;
  const labels = rows.map((row) => row.label);
  const step = (gs: typeof graphs, on: boolean) => {
    setNativeKernelsEnabled(on);
    try {
      const r = shardGradients(model, gs, { own: [...gs.keys()], other: [], labels, pairMask, pairNormaliser: (B * (B - 1)) / 2, crystalNormaliser: B });
      const grads = new Map([...r.grads].map(([name, g]) => [name, g.dataSync() as Float32Array]));
      for (const g of r.grads.values()) g.dispose();
      return { loss: r.loss, grads };
    } finally {
      setNativeKernelsEnabled(true);
    }
  };
  const native = step(graphs, true);
  const js = step(graphs, false);
  assert.ok(Number.isFinite(native.loss));
  assert.ok(Math.abs(native.loss - js.loss) <= 1e-5 * Math.max(1, Math.abs(js.loss)), `loss ${native.loss} vs ${js.loss}`);
  for (const [name, g] of js.grads) assertClose(native.grads.get(name)!, g, `gradient of ${name}`, 1e-3);
  // x86 makes negative NaNs and XNNPACK's ReLU maps those to 0: the native kernels must not.
  const poisoned = graphs.map((g, i) => (i === 0 ? { ...g, neighbourDistance: new Float32Array(g.neighbourDistance.length).fill(NaN) } : g));
  assert.ok(Number.isNaN(step(poisoned, true).loss), 'a NaN distance gives a NaN loss');
  model.dispose();
});

test('the addon refuses bad calls and writes nothing', { skip }, () => {
  const native = nativeKernels()!;
  const a = new Float32Array(6).fill(1);
  const c = new Float32Array(4).fill(7);
  assert.throws(() => native.sgemm(false, false, 2, 2, 4, a, a, c), RangeError); // A holds 6 < 2·4
  assert.throws(() => native.sgemm(false, false, -1, 2, 3, a, a, c), RangeError);
  assert.throws(() => native.sgemm(false, false, 2, 2, 3, a as never, new Int32Array(6) as never, c), TypeError);
  assert.deepEqual([...c], [7, 7, 7, 7]);
  const z = new Float32Array(8).fill(7);
  assert.throws(() => native.slotGather(new Float32Array(4), Int32Array.from([0, 2]), z, 1, 2, 2), RangeError); // row 2 of 2
  assert.throws(() => native.slotScatter(new Float32Array(4), Int32Array.from([-1, 0]), z, 1, 2, 2), RangeError);
  assert.deepEqual([...z], [7, 7, 7, 7, 7, 7, 7, 7]);
  assert.throws(() => native.gatedSoftplus(new Float32Array(4), new Float32Array(1), 1, 2), RangeError);
  assert.throws(() => native.setThreads(0), RangeError);
});

test('with the addon turned off, products run on XNNPACK and ops materialise their transposes', { skip }, async () => {
  await initBackend('wasm');
  setNativeKernelsEnabled(false);
  try {
    assert.equal(matMulProvider().name, 'xnnpack');
    assert.equal(fastTransposedMatMul(), false);
  } finally {
    setNativeKernelsEnabled(true);
  }
  assert.equal(fastTransposedMatMul(), true);
});
