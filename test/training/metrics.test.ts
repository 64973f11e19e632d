import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  averagePrecision,
  classificationMetrics,
  confusionCounts,
  metricsAtThreshold,
  rocAuc,
  type BinaryLabel,
} from '../../src/training/metrics.js';

const TOLERANCE = 1e-12;

test('confusion counts and rates on a hand-computed case', () => {
  const actual: BinaryLabel[] = [1, 1, 0, 0, 1];
  const predicted: BinaryLabel[] = [1, 0, 0, 1, 1];
  assert.deepEqual(confusionCounts(predicted, actual), { truePositives: 2, falsePositives: 1, trueNegatives: 1, falseNegatives: 1 });
  const m = classificationMetrics(predicted, actual);
  assert.equal(m.accuracy, 3 / 5);
  assert.equal(m.sensitivity, 2 / 3);
  assert.equal(m.specificity, 1 / 2);
  assert.ok(Math.abs(m.balancedAccuracy - 7 / 12) < TOLERANCE);
  assert.equal(m.precision, 2 / 3);
});

test('ROC-AUC counts ties as one half (Mann–Whitney)', () => {
  // FAST 0.9 beats both POOR (2); FAST 0.4 ties POOR 0.4 (½) and beats 0.1 (1) → 3.5 / 4.
  assert.equal(rocAuc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0]), 0.875);
  assert.equal(rocAuc([3, 4, 1, 2], [1, 1, 0, 0]), 1);
  assert.equal(rocAuc([1, 2, 3, 4], [1, 1, 0, 0]), 0);
  assert.equal(rocAuc([5, 5, 5], [1, 0, 0]), 0.5);
  assert.ok(Number.isNaN(rocAuc([1, 2], [1, 1])));
});

test('average precision on hand-computed cases', () => {
  // Threshold 0.9: recall ½, precision 1; threshold 0.4 (3 rows): recall 1, precision ⅔.
  // AP = ½·1 + ½·⅔ = ⅚.
  assert.ok(Math.abs(averagePrecision([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0]) - 5 / 6) < TOLERANCE);
  // Ranking P N P: ½·1 + ½·⅔.
  assert.ok(Math.abs(averagePrecision([3, 2, 1], [1, 0, 1]) - 5 / 6) < TOLERANCE);
  assert.equal(averagePrecision([3, 2, 1, 0], [1, 1, 0, 0]), 1);
  // Worst ranking N N P: AP = ⅓.
  assert.ok(Math.abs(averagePrecision([3, 2, 1], [0, 0, 1]) - 1 / 3) < TOLERANCE);
});

test('ROC-AUC equals the brute-force pair count on random data', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ s: fc.integer({ min: 0, max: 5 }), l: fc.constantFrom<BinaryLabel>(0, 1) }), { minLength: 2, maxLength: 30 }), (rows) => {
      const positives = rows.filter((r) => r.l === 1);
      const negatives = rows.filter((r) => r.l === 0);
      const auc = rocAuc(rows.map((r) => r.s), rows.map((r) => r.l));
      if (positives.length === 0 || negatives.length === 0) return assert.ok(Number.isNaN(auc));
      let wins = 0;
      for (const p of positives) for (const n of negatives) wins += p.s > n.s ? 1 : p.s === n.s ? 0.5 : 0;
      assert.ok(Math.abs(auc - wins / (positives.length * negatives.length)) < TOLERANCE);
    }),
  );
});

test('metricsAtThreshold predicts FAST strictly above the threshold', () => {
  const m = metricsAtThreshold([0.5, 1, 1.5, 2], [0, 1, 1, 0], 1);
  // Predicted [0, 0, 1, 1]: TP 1 (1.5), FP 1 (2), TN 1 (0.5), FN 1 (1).
  assert.deepEqual([m.truePositives, m.falsePositives, m.trueNegatives, m.falseNegatives], [1, 1, 1, 1]);
  assert.equal(m.n, 4);
  assert.equal(m.threshold, 1);
  assert.equal(m.rocAuc, 0.5);
});
