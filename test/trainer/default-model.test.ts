/**
 * The shipped default model: train-default writes artifact + manifest (here with tiny overrides
 * and one epoch, on the real seed data), and installDefaultModel puts it into a database as a
 * READY active model with every structure material embedded, once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { DEFAULT_MODEL_DIR, getActiveModel, listModels, type DefaultModelManifest } from '../../src/services/models.js';
import { installDefaultModel, installShippedModel } from '../../src/services/default-model.js';
import { readScreeningView } from '../../src/store/screening/index.js';
import { countModelEmbeddings, indexExists } from '../../src/store/embedding.repository.js';
import { modelVectorIndexName } from '../../src/store/vector.js';
import { trainDefaultModel } from '../../trainer/train-default.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { seedTinySet, silentLogger } from './support.js';

const DATA_DIR = fileURLToPath(new URL('../../data', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-default-model-'));
after(() => rmSync(work, { recursive: true, force: true }));

let manifest: DefaultModelManifest;

before(async () => {
  manifest = await trainDefaultModel({
    seedDir: DATA_DIR,
    outDir: join(work, DEFAULT_MODEL_DIR),
    overrides: { k: 4, layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, maxEpochs: 1 },
    logger: silentLogger,
    command: 'test',
  });
});

test('train-default writes a self-describing manifest beside the artifact', () => {
  const onDisk = JSON.parse(readFileSync(join(work, DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')) as DefaultModelManifest;
  assert.deepEqual(onDisk, manifest);
  assert.deepEqual(manifest.labelCounts, { fast: 218, poor: 260 }, 'every labelled OBELiX row: 254 structures and 224 formulas');
  assert.equal(manifest.trainingIds.length, 478);
  assert.match(manifest.dataHash, /^sha256:[0-9a-f]{64}$/);
  assert.equal(manifest.epochs, 1);
  assert.equal(manifest.hyperparameters.embeddingDim, 4);
  // Without --held-out: only the fit to the training data, and the manifest says there is no held-out estimate.
  assert.ok(Array.isArray(manifest.metrics));
  assert.deepEqual(manifest.metrics.map((m) => [m.protocol, m.heldOut]), [['TRAIN', false]]);
  assert.match(manifest.heldOutNote ?? '', /no held-out estimate/);
  assert.ok(Number.isFinite(manifest.threshold));
  assert.equal(manifest.artifactBytes, statSync(join(work, DEFAULT_MODEL_DIR, 'artifact.json')).size - 1);
  assert.match(manifest.configurationSource, /\S/);
});

describeDatabases('installDefaultModel', (database) => {
  test('installs READY and active with every material embedded (formulas through the composition pathway) and its index; a second install is a no-op', async () => {
    const { db } = database();
    await resetDatabase(db);
    const set = await seedTinySet(db, { fast: 2, poor: 2, unlabelled: 2 });
    const first = await installDefaultModel(db, work);
    assert.ok(first);
    assert.equal(first.installed, true);
    assert.equal(first.model.status, 'READY');
    assert.equal(first.model.isActive, true);
    assert.equal(first.model.createdBy, 'seed');
    assert.equal(first.model.threshold, manifest.threshold);
    assert.deepEqual(first.model.labelCounts, manifest.labelCounts);
    // seedTinySet adds one material known only by its formula: the default embeds it too.
    assert.equal(first.embeddings, set.structures.length + 1);
    assert.equal(await countModelEmbeddings(db, first.model.id), set.structures.length + 1);
    assert.ok(await indexExists(db, modelVectorIndexName(first.model.id)));
    assert.equal((await getActiveModel(db))?.id, first.model.id);
    const { rows } = await sql<{ n: string }>`select count(*) as n from job where kind = 'embed_materials'`.execute(db);
    assert.equal(Number(rows[0]!.n), 1, 'a job picks up materials added while it embedded');

    const second = await installDefaultModel(db, work);
    assert.equal(second?.installed, false);
    assert.equal(second?.model.id, first.model.id);
    assert.equal((await listModels(db)).length, 1);
    assert.equal(await installDefaultModel(db, join(work, 'nowhere')), null, 'no shipped model: nothing to install');
  });

  test('installShippedModel (seed/start) also writes its screening scores: the first screen is a page read', async () => {
    const { db } = database();
    await resetDatabase(db);
    await seedTinySet(db, { fast: 2, poor: 2, unlabelled: 2 });
    await installShippedModel({ db, logger: silentLogger }, work);
    const model = await getActiveModel(db);
    assert.ok(model);
    const view = await readScreeningView(db, model.id);
    assert.ok(view, 'a screening snapshot exists before anyone screened');
    // Candidates: the two unlabelled structures and the unlabelled formula-only material.
    assert.deepEqual([view.state.n_fast, view.state.n_poor, view.state.n_candidates], [2, 2, 3]);
  });
});
