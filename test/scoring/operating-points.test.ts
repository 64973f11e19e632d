/** Operating points of a threshold on R: the confusion figures, the curve, the chosen decision. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrateThreshold, chooseDecision, operatingCurve, operatingPoint } from '../../src/scoring/index.js';

const scores = [0.2, 0.5, 0.9, 1.1, 1.3, 0.7, 1.6, 2.0];
const labels = [0, 0, 0, 0, 1, 1, 1, 1] as const;

test('operatingPoint: precision, recall, false-positive rate and predicted share of "FAST when R > t"', () => {
  // Above 1.0: 1.1 (POOR), 1.3, 1.6, 2.0 (FAST) → TP 3, FP 1, FN 1 (0.7), TN 3.
  assert.deepEqual(operatingPoint(scores, [...labels], 1.0), { threshold: 1.0, precision: 0.75, recall: 0.75, falsePositiveRate: 0.25, predictedFastRate: 0.5 });
  // Strictly above: a score equal to the threshold is POOR.
  assert.equal(operatingPoint(scores, [...labels], 1.1).falsePositiveRate, 0);
  assert.equal(operatingPoint(scores, [...labels], 5).precision, null, 'nothing predicted FAST: no precision');
  assert.throws(() => operatingPoint([1], [0, 1], 0), /differ in length/);
});

test('operatingCurve: ascending, no threshold on a score, the extra thresholds included', () => {
  const curve = operatingCurve(scores, [...labels], 5, [1]);
  const thresholds = curve.map((p) => p.threshold);
  assert.deepEqual(thresholds, [...thresholds].sort((a, b) => a - b));
  assert.equal(new Set(thresholds).size, thresholds.length);
  assert.ok(thresholds.includes(1));
  assert.ok(thresholds.filter((t) => t !== 1).every((t) => !scores.includes(t)));
  // Recall never rises as the threshold rises.
  curve.slice(1).forEach((p, i) => assert.ok(p.recall <= curve[i]!.recall));
});

test('chooseDecision: the max-balanced-accuracy threshold with its own operating point', () => {
  const decision = chooseDecision(scores, [...labels], [1]);
  assert.equal(decision.threshold, calibrateThreshold(scores, [...labels]).threshold);
  const point = operatingPoint(scores, [...labels], decision.threshold);
  assert.equal(decision.precision, point.precision);
  assert.equal(decision.recall, point.recall);
  assert.equal(decision.falsePositiveRate, point.falsePositiveRate);
  assert.ok(decision.curve.some((p) => p.threshold === decision.threshold));
  assert.ok(decision.curve.some((p) => p.threshold === 1));
});
