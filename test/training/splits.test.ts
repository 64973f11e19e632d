import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRandom } from '../../src/model/random.js';
import {
  compositionKey,
  groupedKFold,
  leaveOneOut,
  normalizeFamily,
  stratifiedHoldOut,
  stratifiedSubset,
  type GroupedRow,
} from '../../src/training/splits.js';

test('compositionKey identifies multiples and different spellings of the same composition', () => {
  assert.equal(compositionKey({ Li: 7, La: 3, Zr: 2, O: 12 }), compositionKey({ O: 24, Zr: 4, La: 6, Li: 14 }));
  assert.equal(compositionKey({ Li: 7, La: 3, Zr: 2, O: 12 }), compositionKey({ Li: 3.5, La: 1.5, Zr: 1, O: 6 }));
  assert.notEqual(compositionKey({ Li: 6.4, La: 3, Zr: 1.4, Ta: 0.6, O: 12 }), compositionKey({ Li: 6.5, La: 3, Zr: 1.5, Ta: 0.5, O: 12 }));
});

test('normalizeFamily merges plurals and known variants', () => {
  assert.equal(normalizeFamily('Argyrodites'), normalizeFamily('argyrodite'));
  assert.equal(normalizeFamily('cholorides'), normalizeFamily('chlorides'));
  assert.equal(normalizeFamily('garnet-like'), 'garnet');
  assert.equal(normalizeFamily('  '), null);
  assert.notEqual(normalizeFamily('LISICON'), normalizeFamily('thio-LISICON'));
});

test('leave-one-out tests each row once', () => {
  const folds = leaveOneOut(4);
  assert.deepEqual(folds.map((f) => f.test), [[0], [1], [2], [3]]);
  assert.deepEqual(folds[2]!.train, [0, 1, 3]);
});

/** Random OBELiX-like rows: few families, repeated formulas, some rows without family. */
const rowsArbitrary = fc.array(
  fc.record({
    formula: fc.integer({ min: 0, max: 25 }),
    cifFormula: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }),
    family: fc.option(fc.constantFrom('NASICON', 'garnet', 'garnets', 'LGPS', 'argyrodite', 'perovskite'), { nil: null }),
    label: fc.constantFrom<0 | 1>(0, 1),
  }),
  { minLength: 10, maxLength: 80 },
).map((rows) =>
  rows.map((r): GroupedRow => ({
    formulaKeys: r.cifFormula === undefined ? [`F${r.formula}`] : [`F${r.formula}`, `F${r.cifFormula}`],
    family: r.family,
    label: r.label,
  })),
);

test('grouped k-fold: every row tested once, no formula on both sides, whole families unless oversized, deterministic', () => {
  fc.assert(
    fc.property(rowsArbitrary, fc.integer({ min: 2, max: 6 }), fc.integer(), (rows, k, seed) => {
      if (rows.length < k) return;
      const result = groupedKFold(rows, k, seed);
      const testCount = new Array<number>(rows.length).fill(0);
      for (const fold of result.folds) {
        for (const i of fold.test) testCount[i]!++;
        assert.equal(fold.train.length + fold.test.length, rows.length);
        const inTest = new Set(fold.test);
        assert.ok(fold.train.every((i) => !inTest.has(i)));
        // No formula key in both the training and the test side of any fold.
        const testKeys = new Set(fold.test.flatMap((i) => rows[i]!.formulaKeys));
        assert.ok(fold.train.every((i) => rows[i]!.formulaKeys.every((key) => !testKeys.has(key))));
      }
      assert.ok(testCount.every((c) => c === 1));
      // Families not flagged oversized never straddle; the straddle report is exact.
      const foldsOf = new Map<string, Set<number>>();
      rows.forEach((r, i) => {
        const fam = normalizeFamily(r.family);
        if (fam !== null) foldsOf.set(fam, (foldsOf.get(fam) ?? new Set()).add(result.foldOfRow[i]!));
      });
      const straddling = [...foldsOf].filter(([, s]) => s.size > 1).map(([f]) => f).sort();
      assert.deepEqual(result.straddlingFamilies, straddling);
      assert.ok(straddling.every((f) => result.oversizedFamilies.includes(f)));
      assert.deepEqual(groupedKFold(rows, k, seed), result);
    }),
    { numRuns: 150 },
  );
});

test('grouped k-fold balances fold sizes and classes when groups are small', () => {
  // 100 distinct formulas, no families, 30 % FAST: each of 5 folds should get 20 rows, 6 FAST.
  const rows: GroupedRow[] = [...Array(100).keys()].map((i) => ({ formulaKeys: [`F${i}`], family: null, label: i % 10 < 3 ? 1 : 0 }));
  const result = groupedKFold(rows, 5, 7);
  for (const fold of result.folds) {
    assert.equal(fold.test.length, 20);
    assert.equal(fold.test.filter((i) => rows[i]!.label === 1).length, 6);
  }
  assert.equal(result.nGroups, 100);
});

test('an oversized family is cut along formulas and reported as straddling', () => {
  const rows: GroupedRow[] = [
    ...[...Array(30).keys()].map((i): GroupedRow => ({ formulaKeys: [`N${i}`], family: 'NASICON', label: (i % 2) as 0 | 1 })),
    ...[...Array(20).keys()].map((i): GroupedRow => ({ formulaKeys: [`G${i}`], family: `other${i % 10}`, label: (i % 2) as 0 | 1 })),
  ];
  const result = groupedKFold(rows, 5, 1);
  assert.deepEqual(result.oversizedFamilies, ['nasicon']);
  assert.deepEqual(result.straddlingFamilies, ['nasicon']);
  const differentSeed = groupedKFold(rows, 5, 2);
  assert.notDeepEqual(differentSeed.foldOfRow, result.foldOfRow);
});

test('stratified hold-out: per class round(fraction · members), seeded; keepTwoPerClass holds one of each class and keeps two', () => {
  const labels = [...Array(50).keys()].map((i) => (i < 20 ? 1 : 0) as 0 | 1);
  const heldOut = stratifiedHoldOut(labels, 0.1, createRandom(5));
  assert.equal(heldOut.length, 5);
  assert.equal(heldOut.filter((i) => labels[i] === 1).length, 2);
  assert.deepEqual(heldOut, [...heldOut].sort((a, b) => a - b));
  assert.deepEqual(stratifiedHoldOut(labels, 0.1, createRandom(5)), heldOut, 'same seed, same split');
  assert.notDeepEqual(stratifiedHoldOut(labels, 0.1, createRandom(6)), heldOut);

  // 3 FAST, 8 POOR at 10 %: round() gives 0 FAST and 1 POOR; keepTwoPerClass holds one FAST out.
  const few = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.equal(stratifiedHoldOut(few, 0.1, createRandom(1)).filter((i) => few[i] === 1).length, 0);
  const clamped = stratifiedHoldOut(few, 0.1, createRandom(1), { keepTwoPerClass: true });
  assert.equal(clamped.filter((i) => few[i] === 1).length, 1);
  assert.equal(clamped.filter((i) => few[i] === 0).length, 1);
  // A large fraction still leaves two of each class for training.
  const most = stratifiedHoldOut(few, 0.9, createRandom(1), { keepTwoPerClass: true });
  assert.equal(most.filter((i) => few[i] === 1).length, 1);
  assert.equal(most.filter((i) => few[i] === 0).length, 6);
});

test('stratifiedSubset: a seeded stratified subset of the asked size, everything when it asks for more', () => {
  const labels = [...Array(50).keys()].map((i) => (i < 20 ? 1 : 0) as 0 | 1);
  const subset = stratifiedSubset(labels, 10, 3);
  assert.equal(subset.length, 10);
  assert.equal(subset.filter((i) => labels[i] === 1).length, 4);
  assert.deepEqual(stratifiedSubset(labels, 10, 3), subset);
  assert.deepEqual(stratifiedSubset(labels, 60, 3), [...labels.keys()]);
});
