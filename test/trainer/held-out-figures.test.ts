/**
 * The shipped model's held-out figures: `train-default --held-out FILE` reads an `ionsieve evaluate`
 * output of the same configuration (here a real evaluate() report of a cheap stand-in method with the
 * cross-entropy variant's name and attributes), refuses another configuration's figures, and the
 * installed model then shows the grouped-CV estimate first, its out-of-fold threshold and scores.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { BadInputError } from '../../src/errors.js';
import { resolveStoredHyperparameters, trainDefaultHyperparameters } from '../../src/model/index.js';
import { DEFAULT_MODEL_DIR, type ModelMetrics } from '../../src/services/models.js';
import { installDefaultModel } from '../../src/services/default-model.js';
import type { EvaluationReport } from '../../src/training/evaluate.js';
import { attachHeldOutFigures, readHeldOutFigures } from '../../trainer/train-default.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateOptionsFor, standInReport, writeEvaluateOutput } from '../support/held-out.js';
import { seedTinySet } from './support.js';

const DATA_DIR = fileURLToPath(new URL('../../data', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-held-out-'));
after(() => rmSync(work, { recursive: true, force: true }));

let report: EvaluationReport;
const write = (name: string, options: Record<string, unknown>) => writeEvaluateOutput(work, name, report, options);
const defaultOptions = DEFAULT_EVALUATE_OPTIONS;

before(async () => {
  report = await standInReport(join(DATA_DIR, 'obelix'), { seeds: [0, 1], limit: 80 });
});

test('readHeldOutFigures: GROUP_KFOLD with folds, seeds and n, means over seeds, threshold chosen on the pooled out-of-fold scores', async () => {
  const figures = await readHeldOutFigures(write('ok.json', defaultOptions), trainDefaultHyperparameters);
  const variant = report.variants[0]!;
  assert.equal(figures.metrics.protocol, 'GROUP_KFOLD');
  assert.equal(figures.metrics.heldOut, true);
  assert.equal(figures.metrics.folds, 5);
  assert.deepEqual(figures.metrics.seeds, [0, 1]);
  assert.equal(figures.metrics.n, 80);
  assert.equal(figures.metrics.rocAuc, variant.summary.rocAuc!.mean);
  assert.equal(figures.metrics.rocAucSd, variant.summary.rocAuc!.sd);
  assert.equal(figures.metrics.balancedAccuracy, variant.summary['calibrated.balancedAccuracy']!.mean);
  assert.match(figures.metrics.label, /^held out: grouped 5-fold × 2 seeds, n = 80$/);
  assert.match(figures.metrics.source ?? '', /^ionsieve evaluate --methods gnn-ce/);
  assert.equal(figures.decision.protocol, 'GROUP_KFOLD');
  assert.equal(figures.decision.n, 160, 'both seeds pooled');
  assert.equal(figures.metrics.threshold, figures.decision.threshold);
  // The decision's figures are what the threshold gives on those scores.
  const pooled = variant.perSeed.flatMap((s) => s.scores);
  const fastPredicted = pooled.filter((r) => r.score > figures.decision.threshold);
  assert.equal(figures.decision.precision, fastPredicted.filter((r) => r.label === 1).length / fastPredicted.length);
  assert.equal(figures.decision.recall, fastPredicted.filter((r) => r.label === 1).length / pooled.filter((r) => r.label === 1).length);
  assert.ok(figures.decision.operatingPoints.length >= 10);
  assert.ok(figures.decision.operatingPoints.some((p) => p.threshold === figures.decision.threshold));
  assert.deepEqual(figures.outOfFold.map((o) => o.sourceId).sort(), variant.perSeed[0]!.scores.map((r) => r.id).sort(), "the first seed's scores");
});

test('readHeldOutFigures refuses figures of another configuration, naming the difference', async () => {
  const epochs = trainDefaultHyperparameters.maxEpochs;
  await assert.rejects(
    readHeldOutFigures(write('epochs.json', { ...defaultOptions, epochs: epochs + 1 }), trainDefaultHyperparameters),
    (error: unknown) => error instanceof BadInputError && error.message.includes(`maxEpochs ${epochs + 1} there, ${epochs} here`),
  );
  await assert.rejects(readHeldOutFigures(write('paper.json', { ...defaultOptions, preset: 'paper' }), trainDefaultHyperparameters), /backbone/);
  await assert.rejects(readHeldOutFigures(write('ensemble.json', { ...defaultOptions, members: 3 }), trainDefaultHyperparameters), /ensemble/);
  await assert.rejects(
    readHeldOutFigures(write('k8.json', defaultOptions), { ...trainDefaultHyperparameters, k: 8 }),
    /no distance-ratio variant with objective CROSS_ENTROPY, k = 8/,
  );
  await assert.rejects(readHeldOutFigures(join(work, 'missing.json'), trainDefaultHyperparameters), BadInputError);
  await assert.rejects(
    readHeldOutFigures(write('named.json', defaultOptions), trainDefaultHyperparameters, 'R cosine'),
    /no variant named "R cosine" \(variants: "k-NAGCN cross-entropy k=12 EUCLIDEAN"\)/,
  );
  assert.equal((await readHeldOutFigures(write('named.json', defaultOptions), trainDefaultHyperparameters, 'k-NAGCN cross-entropy k=12 EUCLIDEAN')).metrics.protocol, 'GROUP_KFOLD');
});

describeDatabases('a shipped model with held-out figures', (database) => {
  test('installs with the grouped-CV estimate first, the fit second, the out-of-fold threshold and scores by material', async () => {
    const { db } = database();
    await resetDatabase(db);
    const set = await seedTinySet(db, { fast: 2, poor: 2, unlabelled: 1 });
    // The shipped artifact and manifest, given the figures without retraining (the evaluate file
    // names the shipped model's configuration).
    const dir = join(work, 'seed');
    cpSync(join(DATA_DIR, DEFAULT_MODEL_DIR), join(dir, DEFAULT_MODEL_DIR), { recursive: true });
    const shipped = resolveStoredHyperparameters(JSON.parse(readFileSync(join(DATA_DIR, DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')).hyperparameters);
    const manifest = await attachHeldOutFigures(join(dir, DEFAULT_MODEL_DIR), write('attach.json', evaluateOptionsFor(shipped)!));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')), manifest);
    assert.equal(manifest.heldOutNote, undefined);
    // Two of the tiny materials stand for OBELiX rows of the out-of-fold scores.
    const scored = manifest.outOfFold!.slice(0, 2);
    for (const [i, o] of scored.entries()) await sql`update material set source_id = ${o.sourceId} where id = ${set.fast[i]!.id}`.execute(db);

    const installed = await installDefaultModel(db, dir);
    const model = installed!.model;
    assert.deepEqual(model.metrics.map((m) => [m.protocol, m.heldOut]), [['GROUP_KFOLD', true], ['TRAIN', false]]);
    assert.equal(model.heldOutMetrics?.rocAuc, (manifest.metrics as ModelMetrics[])[0]!.rocAuc);
    assert.equal(model.noHeldOutReason, null);
    assert.equal(model.threshold, manifest.decision!.threshold);
    assert.equal(model.decision?.threshold, model.threshold);
    assert.deepEqual(
      model.outOfFoldScores.map((o) => [o.materialId, o.score]).sort(),
      scored.map((o, i) => [set.fast[i]!.id, o.score]).sort(),
      'out-of-fold scores of the materials present, by material id',
    );
  });
});
