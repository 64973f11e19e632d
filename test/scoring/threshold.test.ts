import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { calibrateThreshold, predictClass } from '../../src/scoring/threshold.js';
import { metricsAtThreshold } from '../../src/training/metrics.js';
import { BadInputError } from '../../src/errors.js';

test('predictClass reads FAST strictly above the threshold (default 1)', () => {
  assert.equal(predictClass(1.01), 'FAST');
  assert.equal(predictClass(1), 'POOR');
  assert.equal(predictClass(0.7, 0.6), 'FAST');
});

test('separable scores calibrate to the midpoint of the gap', () => {
  const result = calibrateThreshold([0.5, 0.8, 1.2, 1.5], [0, 0, 1, 1]);
  assert.equal(result.threshold, 1.0);
  assert.equal(result.balancedAccuracy, 1);
});

test('tied optimal cuts resolve to the middle one', () => {
  // Cuts (FAST = above): all → BA 0.5; >1.5 → 0.25; >2.5 → 0.5; >3.5 → 0.25; none → 0.5.
  // Three cuts tie at 0.5; the middle one is the gap between 2 and 3.
  const result = calibrateThreshold([1, 2, 3, 4], [1, 0, 1, 0]);
  assert.equal(result.threshold, 2.5);
  assert.equal(result.balancedAccuracy, 0.5);
});

test('a low-ratio regime (most fast rows below 1) calibrates below 1', () => {
  const scores = [0.80, 0.85, 0.9, 0.95, 1.05, 0.97, 0.99, 1.1];
  const labels = [0, 0, 0, 0, 0, 1, 1, 1] as const;
  const result = calibrateThreshold(scores, [...labels]);
  assert.equal(result.threshold, (0.95 + 0.97) / 2);
  assert.ok(Math.abs(result.balancedAccuracy - 0.9) < 1e-12);
});

test('infinite scores are handled', () => {
  const result = calibrateThreshold([0.5, Number.POSITIVE_INFINITY], [0, 1]);
  assert.ok(result.threshold > 0.5 && Number.isFinite(result.threshold));
  assert.equal(result.balancedAccuracy, 1);
});

test('calibration needs both classes', () => {
  assert.throws(() => calibrateThreshold([1, 2], [1, 1]), BadInputError);
});

test('the calibrated threshold reaches the reported, maximal balanced accuracy', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ s: fc.integer({ min: 0, max: 20 }).map((v) => v / 10), l: fc.constantFrom<0 | 1>(0, 1) }), { minLength: 2, maxLength: 40 }),
      (rows) => {
        const labels = rows.map((r) => r.l);
        if (!labels.includes(0) || !labels.includes(1)) return;
        const scores = rows.map((r) => r.s);
        const { threshold, balancedAccuracy } = calibrateThreshold(scores, labels);
        const reached = metricsAtThreshold(scores, labels, threshold).balancedAccuracy;
        assert.ok(Math.abs(reached - balancedAccuracy) < 1e-12);
        // No other threshold does better (brute force over all gaps).
        for (const t of [-1, ...scores.map((s) => s + 0.05)]) {
          assert.ok(metricsAtThreshold(scores, labels, t).balancedAccuracy <= balancedAccuracy + 1e-12);
        }
      },
    ),
    { numRuns: 200 },
  );
});
