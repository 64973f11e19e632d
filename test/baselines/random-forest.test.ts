import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainRandomForest } from '../../src/baselines/random-forest.js';
import { createRandom } from '../../src/model/random.js';
import { rocAuc, type BinaryLabel } from '../../src/training/metrics.js';

/** FAST iff x0 + x1 > 1, plus 3 noise features; uniform in [0, 1)^5. */
function synthetic(n: number, seed: number): { rows: number[][]; labels: BinaryLabel[] } {
  const random = createRandom(seed);
  const rows = Array.from({ length: n }, () => Array.from({ length: 5 }, () => random()));
  return { rows, labels: rows.map((r) => (r[0]! + r[1]! > 1 ? 1 : 0)) };
}

test('the forest learns a two-feature rule and ranks held-out rows well', () => {
  const train = synthetic(300, 1);
  const held = synthetic(200, 2);
  const forest = trainRandomForest(train.rows, train.labels, { nTrees: 100, seed: 3 });
  const probabilities = held.rows.map((r) => forest.predictProbability(r));
  assert.ok(probabilities.every((p) => p >= 0 && p <= 1));
  const accuracy = probabilities.filter((p, i) => (p > 0.5 ? 1 : 0) === held.labels[i]).length / held.rows.length;
  assert.ok(accuracy > 0.85, `accuracy ${accuracy}`);
  assert.ok(rocAuc(probabilities, held.labels) > 0.93);
  // The two informative features carry most of the importance.
  assert.ok(forest.featureImportances[0]! + forest.featureImportances[1]! > 0.6);
  assert.ok(Math.abs(forest.featureImportances.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('out-of-bag probabilities behave like held-out predictions', () => {
  const train = synthetic(300, 4);
  const forest = trainRandomForest(train.rows, train.labels, { nTrees: 60, seed: 5 });
  const oob = Array.from(forest.oobProbabilities);
  // With 60 trees each row is out of bag for ~22 of them: none should be NaN.
  assert.ok(oob.every((p) => p >= 0 && p <= 1));
  const auc = rocAuc(oob, train.labels);
  assert.ok(auc > 0.9 && auc < 1, `OOB AUC ${auc}`);
});

test('the same seed gives the same forest; another seed a different one', () => {
  const { rows, labels } = synthetic(120, 6);
  const probe = [0.4, 0.55, 0.1, 0.9, 0.3];
  const a = trainRandomForest(rows, labels, { nTrees: 30, seed: 7 });
  const b = trainRandomForest(rows, labels, { nTrees: 30, seed: 7 });
  const c = trainRandomForest(rows, labels, { nTrees: 30, seed: 8 });
  assert.equal(a.predictProbability(probe), b.predictProbability(probe));
  assert.deepEqual(a.oobProbabilities, b.oobProbabilities);
  assert.notDeepEqual(a.oobProbabilities, c.oobProbabilities);
});

test('a single deep tree on all rows memorises distinct points; constant features are skipped', () => {
  const rows = [[0, 5], [1, 5], [2, 5], [3, 5]];
  const labels: BinaryLabel[] = [0, 1, 0, 1];
  const forest = trainRandomForest(rows, labels, { nTrees: 200, seed: 1, maxFeatures: 1 });
  // Bagged trees disagree on unseen rows, but the ensemble ranks the training points correctly.
  const p = rows.map((r) => forest.predictProbability(r));
  assert.ok(p[1]! > p[0]! && p[3]! > p[2]!);
});
