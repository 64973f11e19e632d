import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCrystalGraph, crystalGraphCacheKey, type CrystalGraph } from '../../src/graph/index.js';
import { atomFeatures92 } from '../../src/features/index.js';
import { BadInputError } from '../../src/errors.js';
import type { Structure } from '../../src/structure/structure.js';
import {
  bccPrimitive,
  fccPrimitive,
  randomCrystal,
  randomOrthogonal,
  rotateStructure,
  single,
  supercell,
  translateStructure,
} from '../support/crystals.js';

const GEOMETRY_TOLERANCE = 1e-5;

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function assertSameGraph(a: CrystalGraph, b: CrystalGraph) {
  assert.deepEqual([...a.neighbourIndex], [...b.neighbourIndex]);
  assertClose(a.neighbourDistance, b.neighbourDistance, GEOMETRY_TOLERANCE, 'distance');
  assertClose(a.neighbourCosine, b.neighbourCosine, GEOMETRY_TOLERANCE, 'cosine');
  assert.deepEqual([...a.atomFeatures], [...b.atomFeatures]);
}

test('fcc one-atom cell, k = 12: twelve images of atom 0 at a/√2', () => {
  const a = 3.615;
  const g = buildCrystalGraph(fccPrimitive(a), { k: 12 });
  assert.equal(g.numAtoms, 1);
  assert.deepEqual([...g.neighbourIndex], Array(12).fill(0));
  assertClose(g.neighbourDistance, Array(12).fill(a / Math.SQRT2), 1e-5, 'distance');
  // fcc first shell: each neighbour has cosines {1, 1/2 ×4, 0 ×2, −1/2 ×4, −1} to the 12.
  const row = [...g.neighbourCosine.subarray(0, 12)].map((c) => Math.round(c * 2) / 2).sort();
  assert.deepEqual(row, [-1, -0.5, -0.5, -0.5, -0.5, 0, 0, 0.5, 0.5, 0.5, 0.5, 1].sort());
});

test('bcc one-atom cell, k = 12: 8 at a√3/2 then 4 of the 6 at a', () => {
  const a = 2.866;
  const g = buildCrystalGraph(bccPrimitive(a), { k: 12 });
  const d = [...g.neighbourDistance];
  assertClose(d.slice(0, 8), Array(8).fill((a * Math.sqrt(3)) / 2), 1e-5, 'first shell');
  assertClose(d.slice(8), Array(4).fill(a), 1e-5, 'second shell');
});

test('hand-worked two-atom cell (Li at 0, O at x = 1 Å in a 4×5×6 Å box)', () => {
  const s: Structure = {
    lattice: [[4, 0, 0], [0, 5, 0], [0, 0, 6]],
    sites: [single('Li', [0, 0, 0]), single('O', [0.25, 0, 0])],
  };
  const g = buildCrystalGraph(s, { k: 6 });
  // Li: O 1 Å, O image 3 Å, Li ±a 4 Å (tie), then at 5 Å: O (+a) before Li (±b) because heavier first.
  assert.deepEqual([...g.neighbourIndex.subarray(0, 6)], [1, 1, 0, 0, 1, 0]);
  assertClose(g.neighbourDistance.subarray(0, 6), [1, 3, 4, 4, 5, 5], 1e-6, 'Li distances');
  // O: Li 1 Å, Li image 3 Å, then O images ±a at 4 Å.
  assert.deepEqual([...g.neighbourIndex.subarray(6, 10)], [0, 0, 1, 1]);
  assertClose(g.neighbourDistance.subarray(6, 10), [1, 3, 4, 4], 1e-6, 'O distances');
  // cos(Li→O(1 Å), Li→O(3 Å, −x)) = −1; the two Li images at ±4 Å are antiparallel too.
  assert.ok(Math.abs(g.neighbourCosine[0 * 6 + 1]! + 1) < 1e-6);
  assert.ok(Math.abs(g.neighbourCosine[2 * 6 + 3]! + 1) < 1e-6);
  assert.deepEqual([...g.atomFeatures.subarray(0, 92)], [...atomFeatures92(3)]);
});

test('graph is invariant under rotation (with and without reflection) and origin shift', () => {
  for (const seed of [1, 2, 3]) {
    const s = randomCrystal(seed, 7);
    const reference = buildCrystalGraph(s, { k: 12 });
    assertSameGraph(buildCrystalGraph(rotateStructure(s, randomOrthogonal(seed + 10)), { k: 12 }), reference);
    assertSameGraph(buildCrystalGraph(rotateStructure(s, randomOrthogonal(seed + 20, true)), { k: 12 }), reference);
    assertSameGraph(buildCrystalGraph(translateStructure(s, [0.37, -0.81, 0.52]), { k: 12 }), reference);
  }
});

test('a 2×1×1 supercell gives every copy the neighbourhood of its original site', () => {
  const s = randomCrystal(5, 4);
  const g = buildCrystalGraph(s, { k: 8 });
  const big = buildCrystalGraph(supercell(s, [2, 1, 1]), { k: 8 });
  assert.equal(big.numAtoms, 8);
  for (let i = 0; i < big.numAtoms; i++) {
    const o = i % 4;
    assertClose(big.neighbourDistance.subarray(i * 8, i * 8 + 8), g.neighbourDistance.subarray(o * 8, o * 8 + 8), 1e-5, `distance ${i}`);
    assertClose(big.neighbourCosine.subarray(i * 64, i * 64 + 64), g.neighbourCosine.subarray(o * 64, o * 64 + 64), 1e-5, `cos ${i}`);
    for (let s2 = 0; s2 < 8; s2++) assert.equal(big.neighbourIndex[i * 8 + s2]! % 4, g.neighbourIndex[o * 8 + s2]);
  }
});

test('a long thin cell needs the search radius to grow and stays exact', () => {
  // 1-atom chain cell 1.5 × 20 × 20 Å: the 12 nearest are ±1..±6 along a.
  const s: Structure = { lattice: [[1.5, 0, 0], [0, 20, 0], [0, 0, 20]], sites: [single('Li', [0, 0, 0])] };
  const g = buildCrystalGraph(s, { k: 12 });
  assertClose(g.neighbourDistance, [1.5, 1.5, 3, 3, 4.5, 4.5, 6, 6, 7.5, 7.5, 9, 9], 1e-6, 'chain');
});

test('bad input is rejected with BadInputError; cache key tracks k and content', () => {
  assert.throws(() => buildCrystalGraph({ lattice: [[1, 0, 0], [2, 0, 0], [0, 0, 1]], sites: [single('Li', [0, 0, 0])] }, { k: 4 }), BadInputError);
  assert.throws(() => buildCrystalGraph({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [] }, { k: 4 }), BadInputError);
  const s = fccPrimitive(3.6);
  assert.equal(crystalGraphCacheKey(s, { k: 12 }), crystalGraphCacheKey(fccPrimitive(3.6), { k: 12 }));
  assert.notEqual(crystalGraphCacheKey(s, { k: 12 }), crystalGraphCacheKey(s, { k: 8 }));
  assert.notEqual(crystalGraphCacheKey(s, { k: 12 }), crystalGraphCacheKey(fccPrimitive(3.7), { k: 12 }));
});

test('a cell whose neighbour search would scan billions of images is BadInputError, not a process abort', () => {
  // Found while fuzzing: a valid but very skewed cell (b = 1e6·a + ŷ) made the search enumerate
  // ~9e8 images; the arrays outgrew the heap and V8 aborted the process (similarMaterials, embed jobs).
  const skewed: Structure = {
    lattice: [[1, 0, 0], [1e6, 1, 0], [0, 0, 1]],
    sites: [
      { species: [{ element: 'Li', occupancy: 1 }], frac: [0, 0, 0] },
      { species: [{ element: 'O', occupancy: 1 }], frac: [0.5, 0.5, 0.5] },
    ],
  };
  assert.throws(() => buildCrystalGraph(skewed, { k: 12 }), (err: unknown) => err instanceof BadInputError && /degenerate cell: .* 8\.72e\+8 atom images/.test(err.message));
  const needle: Structure = { ...skewed, lattice: [[1e-4, 0, 0], [0, 1e-4, 0], [0, 0, 1e5]] };
  assert.throws(() => buildCrystalGraph(needle, { k: 12 }), /degenerate cell/);
  // The same lattice, reduced (b − 1e6·a), is an ordinary cell.
  assert.equal(buildCrystalGraph({ ...skewed, lattice: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, { k: 12 }).numAtoms, 2);
});
