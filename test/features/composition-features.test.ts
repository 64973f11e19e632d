import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compositionFeatureNames, compositionFeatures, type ElementPropertySource } from '../../src/features/composition-features.js';

const TOLERANCE = 1e-12;
/** Two made-up properties; "b" is missing for O. */
const source: ElementPropertySource = {
  names: ['a', 'b'],
  vector: (symbol) => ({ Li: [1, 10], O: [4, Number.NaN], La: [2, 20] })[symbol] ?? [Number.NaN, Number.NaN],
};

test('Li2O statistics match a hand computation', () => {
  const names = compositionFeatureNames(source);
  const x = compositionFeatures({ Li: 2, O: 1 }, source);
  assert.equal(x.length, names.length);
  const get = (name: string) => x[names.indexOf(name)]!;
  // Fractions Li ⅔, O ⅓; property a: Li 1, O 4.
  assert.ok(Math.abs(get('mean:a') - 2) < TOLERANCE);
  assert.equal(get('min:a'), 1);
  assert.equal(get('max:a'), 4);
  assert.equal(get('range:a'), 3);
  assert.ok(Math.abs(get('meanAbsoluteDeviation:a') - 4 / 3) < TOLERANCE); // ⅔·1 + ⅓·2
  // Property b is missing for O: statistics over Li alone.
  assert.equal(get('mean:b'), 10);
  assert.equal(get('range:b'), 0);
  assert.ok(Math.abs(get('liFraction') - 2 / 3) < TOLERANCE);
  assert.equal(get('nElements'), 2);
  assert.ok(Math.abs(get('fractionNormL2') - Math.sqrt(5) / 3) < TOLERANCE);
});

test('features depend on proportions only and are always finite', () => {
  const a = compositionFeatures({ Li: 7, La: 3, O: 12 }, source);
  const b = compositionFeatures({ Li: 14, La: 6, O: 24 }, source);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < TOLERANCE);
  const unknown = compositionFeatures({ Xx: 1 }, source);
  assert.ok(unknown.every((v) => Number.isFinite(v)));
});
