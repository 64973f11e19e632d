import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitStandardiser, trainKnn } from '../../src/baselines/knn.js';

test('kNN probability is the FAST fraction among the k nearest standardised rows', () => {
  // Feature 1 is scaled ×1000: standardisation makes both features count equally.
  const rows = [[0, 0], [0, 1000], [1, 0], [10, 10000], [11, 10000], [10, 11000]];
  const labels = [0, 0, 0, 1, 1, 1] as const;
  const knn = trainKnn(rows, [...labels], { k: 3 });
  assert.equal(knn.predictProbability([0.5, 500]), 0);
  assert.equal(knn.predictProbability([10.5, 10500]), 1);
  // Leave-self-out: each row's 3 nearest others are its own cluster's 2 plus one of the other.
  assert.deepEqual(Array.from(knn.leaveSelfOutProbabilities), [1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3]);
});

test('the standardiser maps training columns to mean 0, sd 1 and constant columns to 0', () => {
  const z = fitStandardiser([[1, 7], [3, 7]]);
  assert.deepEqual(Array.from(z([1, 7])), [-1, 0]);
  assert.deepEqual(Array.from(z([3, 100])), [1, 0]);
});
