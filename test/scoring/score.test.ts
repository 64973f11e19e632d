import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addReference,
  boundedDistance,
  distanceScaleOf,
  cosineDistance,
  emptyScoreSums,
  euclideanDistance,
  leaveSelfOutScores,
  pairwiseDistances,
  removeReference,
  scoreAgainstNearest,
  scoreAgainstReferences,
  scoreFromSums,
  scoresFromDistanceMatrix,
  scoreSumsFor,
  type DistanceMetric,
  type LabelClass,
} from '../../src/scoring/score.js';
import { BadInputError } from '../../src/errors.js';

const TOLERANCE = 1e-9;

test('Euclidean score is mean distance to poor over mean distance to fast (hand computed)', () => {
  // d(q, fast) = 5 and 1 → mean 3; d(q, poor) = 10 and 2 → mean 6; R = 6 / 3 = 2.
  const result = scoreAgainstReferences([0, 0], [[3, 4], [0, 1]], [[6, 8], [0, 2]], 'EUCLIDEAN');
  assert.equal(result.meanDistanceToFast, 3);
  assert.equal(result.meanDistanceToPoor, 6);
  assert.equal(result.score, 2);
});

test('cosine distance is 1 − cos and gives the hand-computed score', () => {
  assert.ok(Math.abs(cosineDistance([1, 0], [0, 1]) - 1) < TOLERANCE);
  assert.ok(Math.abs(cosineDistance([1, 0], [2, 0])) < TOLERANCE);
  assert.ok(Math.abs(cosineDistance([1, 0], [-3, 0]) - 2) < TOLERANCE);
  assert.ok(Math.abs(cosineDistance([1, 1], [1, 0]) - (1 - Math.SQRT1_2)) < TOLERANCE);
  // fast: distances 1 and 0 → mean 0.5; poor: distance 2 → R = 4.
  const result = scoreAgainstReferences([1, 0], [[0, 1], [5, 0]], [[-1, 0]], 'COSINE');
  assert.ok(Math.abs(result.score - 4) < TOLERANCE);
});

test('a zero vector is at cosine distance 1 from everything', () => {
  assert.equal(cosineDistance([0, 0], [1, 2]), 1);
});

test('nearest-k uses the k closest of each class and clips k to the class size', () => {
  const fast = [[3, 4], [0, 1]]; // distances 5, 1
  const poor = [[6, 8], [0, 2]]; // distances 10, 2
  assert.equal(scoreAgainstNearest([0, 0], fast, poor, 1).score, 2 / 1);
  assert.equal(scoreAgainstNearest([0, 0], fast, poor, 50).score, scoreAgainstReferences([0, 0], fast, poor).score);
  assert.throws(() => scoreAgainstNearest([0, 0], fast, poor, 0), BadInputError);
});

test('edge cases: sitting on the fast set gives +Infinity, all distances zero give 1, empty sets throw', () => {
  assert.equal(scoreAgainstReferences([1, 1], [[1, 1]], [[2, 1]]).score, Number.POSITIVE_INFINITY);
  assert.equal(scoreAgainstReferences([1, 1], [[1, 1]], [[1, 1]]).score, 1);
  assert.throws(() => scoreAgainstReferences([1, 1], [], [[1, 1]]), BadInputError);
  assert.throws(() => euclideanDistance([1, 2], [1, 2, 3]), BadInputError);
});

test('leave-self-out scores on a line match a hand computation', () => {
  // Points 0 (FAST), 1 (FAST), 3 (POOR), 6 (POOR) on a line.
  const scores = leaveSelfOutScores([[0], [1], [3], [6]], [1, 1, 0, 0]);
  // Row 0: fast {1} → 1; poor {3, 6} → 4.5.  Row 2: fast {0, 1} → 2.5; poor {6} → 3.
  assert.ok(Math.abs(scores[0]!.score - 4.5) < TOLERANCE);
  assert.ok(Math.abs(scores[1]!.score - (3.5 / 1)) < TOLERANCE); // fast {0} → 1; poor {3, 6} → 2, 5 → 3.5
  assert.ok(Math.abs(scores[2]!.score - 3 / 2.5) < TOLERANCE);
  assert.ok(Math.abs(scores[3]!.score - 3 / 5.5) < TOLERANCE); // fast 6, 5 → 5.5; poor {3} → 3
});

test('matrix scoring equals direct scoring for every query', () => {
  const vectors = [[0, 1, 2], [1, 0, 0], [2, 2, 1], [-1, 0.5, 3], [0.3, 0.3, 0.3], [4, 1, 0]];
  for (const metric of ['EUCLIDEAN', 'COSINE'] as DistanceMetric[]) {
    const matrix = pairwiseDistances(vectors, metric);
    const fast = [1, 2];
    const poor = [3, 5];
    const viaMatrix = scoresFromDistanceMatrix(matrix, vectors.length, [0, 4], fast, poor);
    for (const [slot, q] of [0, 4].entries()) {
      const direct = scoreAgainstReferences(vectors[q]!, fast.map((i) => vectors[i]!), poor.map((i) => vectors[i]!), metric);
      assert.ok(Math.abs(viaMatrix[slot]!.score - direct.score) < TOLERANCE);
    }
    const nearest = scoresFromDistanceMatrix(matrix, vectors.length, [0], fast, poor, { nearestK: 1 });
    const directNearest = scoreAgainstNearest(vectors[0]!, fast.map((i) => vectors[i]!), poor.map((i) => vectors[i]!), 1, metric);
    assert.ok(Math.abs(nearest[0]!.score - directNearest.score) < TOLERANCE);
  }
});

test('incremental sums reproduce the direct score after any sequence of adds and removes', () => {
  // Components on a 0.01 grid in [−10, 10]: realistic embedding magnitudes, and exact duplicates
  // (distance 0) still occur, which exercises the edge cases of the ratio.
  const vector = fc.array(fc.integer({ min: -1000, max: 1000 }).map((v) => v / 100), { minLength: 4, maxLength: 4 });
  fc.assert(
    fc.property(
      vector,
      fc.array(fc.record({ v: vector, cls: fc.constantFrom<LabelClass>('FAST', 'POOR') }), { minLength: 2, maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom<DistanceMetric>('EUCLIDEAN', 'COSINE'),
      (query, references, removals, metric) => {
        let kept = references.slice();
        let sums = emptyScoreSums();
        for (const r of references) sums = addReference(sums, r.cls, metric === 'COSINE' ? cosineDistance(query, r.v) : euclideanDistance(query, r.v));
        for (const pick of removals) {
          if (kept.length === 0) break;
          const [removed] = kept.splice(pick % kept.length, 1);
          sums = removeReference(sums, removed!.cls, metric === 'COSINE' ? cosineDistance(query, removed!.v) : euclideanDistance(query, removed!.v));
        }
        const fast = kept.filter((r) => r.cls === 'FAST').map((r) => r.v);
        const poor = kept.filter((r) => r.cls === 'POOR').map((r) => r.v);
        const incremental = scoreFromSums(sums);
        if (fast.length === 0 || poor.length === 0) {
          assert.equal(incremental, null);
          return;
        }
        const direct = scoreAgainstReferences(query, fast, poor, metric);
        assert.ok(incremental !== null);
        assert.ok(Math.abs(incremental.meanDistanceToFast - direct.meanDistanceToFast) < TOLERANCE);
        assert.ok(Math.abs(incremental.meanDistanceToPoor - direct.meanDistanceToPoor) < TOLERANCE);
        if (Number.isFinite(direct.score)) {
          // Compare the ratio relatively: a tiny fast mean amplifies the absolute rounding error.
          assert.ok(Math.abs(incremental.score - direct.score) <= TOLERANCE * Math.max(1, Math.abs(direct.score)));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('scoreSumsFor fills the sums from scratch and removing an absent class throws', () => {
  const sums = scoreSumsFor([0, 0], [[3, 4], [0, 1]], [[6, 8], [0, 2]]);
  assert.deepEqual(sums, { sumDistFast: 6, nFast: 2, sumDistPoor: 12, nPoor: 2 });
  assert.equal(scoreFromSums(sums)!.score, 2);
  assert.throws(() => removeReference(emptyScoreSums(), 'FAST', 1), BadInputError);
  assert.throws(() => addReference(emptyScoreSums(), 'POOR', -1), BadInputError);
});

test('bounded distances: 1 − exp(−d/s) averaged (hand computed); null scale = plain; a far reference saturates', () => {
  // d(q, fast) = 1 and 3, d(q, poor) = 2 (s = 2): means (1 − e^−0.5 + 1 − e^−1.5)/2 and 1 − e^−1.
  const r = scoreAgainstReferences([0], [[1], [3]], [[2]], { metric: 'EUCLIDEAN', scale: 2 });
  const meanFast = (1 - Math.exp(-0.5) + 1 - Math.exp(-1.5)) / 2;
  assert.ok(Math.abs(r.meanDistanceToFast - meanFast) < TOLERANCE);
  assert.ok(Math.abs(r.meanDistanceToPoor - (1 - Math.exp(-1))) < TOLERANCE);
  assert.equal(boundedDistance(5, null), 5);
  assert.equal(boundedDistance(0, 2), 0);
  // Moving one POOR reference from 10 to 1000 away changes plain R a hundredfold, bounded R hardly.
  const near = scoreAgainstReferences([0], [[1]], [[2], [10]], { metric: 'EUCLIDEAN', scale: 1 }).score;
  const far = scoreAgainstReferences([0], [[1]], [[2], [1000]], { metric: 'EUCLIDEAN', scale: 1 }).score;
  assert.ok(Math.abs(far - near) < 1e-3, `${near} vs ${far}`);
});

test('bounded distances: every form agrees (direct, nearest, matrix, leave-self-out, sums)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 5, maxLength: 12 }),
      fc.double({ min: 0.05, max: 5, noNaN: true }),
      (vectors, scale) => {
        const labels = vectors.map((_, i) => (i % 2 === 0 ? 1 : 0)) as (0 | 1)[];
        const d = { metric: 'EUCLIDEAN' as const, scale };
        const n = vectors.length;
        const all = [...Array(n).keys()];
        const fastIdx = all.filter((i) => labels[i] === 1);
        const poorIdx = all.filter((i) => labels[i] === 0);
        const matrix = pairwiseDistances(vectors, 'EUCLIDEAN');
        const loo = leaveSelfOutScores(vectors, labels, 'EUCLIDEAN', undefined, scale);
        const viaMatrix = scoresFromDistanceMatrix(matrix, n, all, fastIdx, poorIdx, { excludeSelf: true, distanceScale: scale });
        all.forEach((i) => {
          const others = (idx: number[]) => idx.filter((j) => j !== i).map((j) => vectors[j]!);
          const direct = scoreAgainstReferences(vectors[i]!, others(fastIdx), others(poorIdx), d);
          const sums = scoreFromSums(scoreSumsFor(vectors[i]!, others(fastIdx), others(poorIdx), d))!;
          for (const other of [loo[i]!, viaMatrix[i]!, sums]) {
            assert.ok(Math.abs(other.meanDistanceToFast - direct.meanDistanceToFast) < 1e-9);
            assert.ok(Math.abs(other.meanDistanceToPoor - direct.meanDistanceToPoor) < 1e-9);
          }
          const nearest = scoreAgainstNearest(vectors[i]!, others(fastIdx), others(poorIdx), 2, d);
          const nearestMatrix = scoresFromDistanceMatrix(matrix, n, [i], fastIdx, poorIdx, { excludeSelf: true, nearestK: 2, distanceScale: scale })[0]!;
          assert.ok(Math.abs(nearest.meanDistanceToFast - nearestMatrix.meanDistanceToFast) < 1e-9);
        });
      },
    ),
    { numRuns: 50 },
  );
});

test('distanceScaleOf: the quantile of the pairwise distances; null when nothing to measure; bad quantile refused', () => {
  // Points 0, 1, 3 on a line: pairwise distances 1, 2, 3.
  assert.equal(distanceScaleOf([[0], [1], [3]], 'EUCLIDEAN', 0.1), 1);
  assert.equal(distanceScaleOf([[0], [1], [3]], 'EUCLIDEAN', 0.5), 2);
  assert.equal(distanceScaleOf([[0], [1], [3]], 'EUCLIDEAN', 0.9), 3);
  assert.equal(distanceScaleOf([[1]], 'EUCLIDEAN', 0.5), null);
  assert.equal(distanceScaleOf([[1], [1]], 'EUCLIDEAN', 0.5), null);
  assert.throws(() => distanceScaleOf([[0], [1]], 'EUCLIDEAN', 1), BadInputError);
  assert.throws(() => distanceScaleOf([[0], [1]], 'EUCLIDEAN', 0), BadInputError);
});
