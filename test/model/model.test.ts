import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCrystalGraph } from '../../src/graph/index.js';
import { createModel, embedStructures, initBackend, loadModel, resolveHyperparameters, saveArtifact } from '../../src/model/index.js';
import { BadInputError } from '../../src/errors.js';
import { randomCrystal, randomOrthogonal, rotateStructure, supercell, translateStructure } from '../support/crystals.js';

const EMBEDDING_TOLERANCE = 1e-4;

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

const hyperparameters = resolveHyperparameters({ k: 8, featureLength: 16, denseLength: 16, embeddingDim: 8, seed: 3 });

test('embedding is invariant under rotation, reflection, translation, origin shift and a 2×1×1 supercell', async () => {
  await initBackend('wasm');
  const model = createModel(hyperparameters);
  try {
    const s = randomCrystal(11, 6);
    const variants = [
      rotateStructure(s, randomOrthogonal(4)),
      rotateStructure(s, randomOrthogonal(5, true)),
      translateStructure(s, [0.31, 0.77, -0.4]),
      supercell(s, [2, 1, 1]),
    ];
    const [reference, ...others] = embedStructures(model, [s, ...variants].map((x) => buildCrystalGraph(x, { k: 8 })), { batchSize: 1 });
    assert.ok(reference!.some((x) => Math.abs(x) > 1e-3), 'embedding is not trivially zero');
    for (const e of others) assert.ok(maxAbsDifference(e, reference!) < EMBEDDING_TOLERANCE, `difference ${maxAbsDifference(e, reference!)}`);
  } finally {
    model.dispose();
  }
});

test('embedding a crystal alone equals embedding it inside a batch (inference mode)', async () => {
  await initBackend('wasm');
  const model = createModel(hyperparameters);
  try {
    const graphs = [1, 2, 3, 4, 5].map((seed) => buildCrystalGraph(randomCrystal(seed, 3 + seed), { k: 8 }));
    const batched = embedStructures(model, graphs, { batchSize: 5 });
    const alone = embedStructures(model, graphs, { batchSize: 1 });
    batched.forEach((e, i) => assert.ok(maxAbsDifference(e, alone[i]!) < 1e-5, `crystal ${i}`));
    assert.ok(maxAbsDifference(batched[0]!, batched[1]!) > 1e-3, 'different crystals embed differently');
  } finally {
    model.dispose();
  }
});

test('artifact save → JSON → load gives the same embeddings, on another backend too', async () => {
  await initBackend('wasm');
  const graphs = [7, 8].map((seed) => buildCrystalGraph(randomCrystal(seed, 5), { k: 8 }));
  const model = createModel(hyperparameters, undefined, { trainedOnBackend: 'wasm' });
  const expected = embedStructures(model, graphs);
  const artifact = JSON.parse(JSON.stringify(saveArtifact(model))) as ReturnType<typeof saveArtifact>;
  model.dispose();
  assert.equal(artifact.trainedOnBackend, 'wasm');
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const loaded = loadModel(artifact);
    try {
      embedStructures(loaded, graphs).forEach((e, i) => assert.ok(maxAbsDifference(e, expected[i]!) < 1e-5, `${backend} crystal ${i}`));
    } finally {
      loaded.dispose();
    }
  }
  await initBackend('wasm');
  assert.throws(() => loadModel({ ...artifact, elementTableHash: 'x' }), BadInputError);
  assert.throws(() => loadModel({ ...artifact, backboneVersion: 'other' }), BadInputError);
});

test('graphs built with another k are rejected', async () => {
  await initBackend('wasm');
  const model = createModel(hyperparameters);
  try {
    assert.throws(() => embedStructures(model, [buildCrystalGraph(randomCrystal(1, 4), { k: 4 })]), BadInputError);
  } finally {
    model.dispose();
  }
});

test('composition descriptors: in every graph, invariant under symmetry and supercells, joined to the readout, saved in the artifact', async () => {
  await initBackend('wasm');
  const { compositionFeatures, ELEMENT_TABLE_PROPERTIES } = await import('../../src/features/composition-features.js');
  const { cellAmounts } = await import('../../src/structure/index.js');
  const { parameterLayout, COMPOSITION_DESCRIPTOR_LENGTH } = await import('../../src/model/backbone.js');
  const s = randomCrystal(12, 7);
  const g = buildCrystalGraph(s, { k: 8 });
  assert.equal(g.compositionDescriptors.length, COMPOSITION_DESCRIPTOR_LENGTH);
  assert.deepEqual([...g.compositionDescriptors], [...Float32Array.from(compositionFeatures(cellAmounts(s), ELEMENT_TABLE_PROPERTIES))]);
  const h = resolveHyperparameters({ ...hyperparameters, compositionDescriptors: true });
  assert.equal(resolveHyperparameters().compositionDescriptors, true, 'the default preset reads them');
  const layout = parameterLayout(h);
  assert.deepEqual(layout.find((p) => p.name === 'dense1/W')!.shape, [16 + COMPOSITION_DESCRIPTOR_LENGTH, 16]);
  assert.ok(layout.some((p) => p.name === 'composition/bn/movingMean' && !p.trainable));
  const without = resolveHyperparameters({ ...hyperparameters, compositionDescriptors: false });
  assert.ok(!parameterLayout(without).some((p) => p.name.startsWith('composition/')));
  const model = createModel(h);
  const plain = createModel(without);
  try {
    const variants = [rotateStructure(s, randomOrthogonal(6, true)), translateStructure(s, [0.2, -0.5, 0.9]), supercell(s, [1, 2, 1])];
    const [reference, ...others] = embedStructures(model, [s, ...variants].map((x) => buildCrystalGraph(x, { k: 8 })), { batchSize: 1 });
    for (const e of others) assert.ok(maxAbsDifference(e, reference!) < EMBEDDING_TOLERANCE, `difference ${maxAbsDifference(e, reference!)}`);
    // The descriptors reach the embedding: same seed and graph, different readout input.
    assert.ok(maxAbsDifference(reference!, embedStructures(plain, [g])[0]!) > 1e-3);
    const graphs = [1, 2, 3].map((seed) => buildCrystalGraph(randomCrystal(seed, 4 + seed), { k: 8 }));
    const batched = embedStructures(model, graphs, { batchSize: 3 });
    embedStructures(model, graphs, { batchSize: 1 }).forEach((e, i) => assert.ok(maxAbsDifference(e, batched[i]!) < 1e-5, `crystal ${i} alone vs batched`));
    const loaded = loadModel(JSON.parse(JSON.stringify(saveArtifact(model))));
    assert.equal(loaded.hyperparameters.compositionDescriptors, true);
    embedStructures(loaded, graphs).forEach((e, i) => assert.ok(maxAbsDifference(e, batched[i]!) < 1e-6, `crystal ${i} after save/load`));
    loaded.dispose();
    // An artifact written before the field existed has no compositionDescriptors: it loads as "off".
    const old = JSON.parse(JSON.stringify(saveArtifact(plain)));
    delete old.hyperparameters.compositionDescriptors;
    const oldModel = loadModel(old);
    assert.equal(oldModel.hyperparameters.compositionDescriptors, false);
    assert.ok(maxAbsDifference(embedStructures(oldModel, [g])[0]!, embedStructures(plain, [g])[0]!) < 1e-6);
    oldModel.dispose();
  } finally {
    model.dispose();
    plain.dispose();
  }
  assert.throws(() => resolveHyperparameters({ compositionDescriptors: 'yes' as never }), BadInputError);
});
