import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ELEMENTS,
  elementBySymbol,
  elementByNumber,
  elementFromLabel,
  latticeParameters,
  latticeVolume,
  latticeFromParameters,
  invertMat3,
  fracToCart,
  cartToFrac,
  wrapFrac,
  parseStructure,
  describeStructure,
  cartesianPositions,
  mergeCoLocatedSites,
  type Mat3,
  type Site,
  type Vec3,
} from '../../src/structure/index.js';
import { sameFracPositionPbc } from '../../src/structure/lattice.js';
import { assertBadInput, cpuTime, fixture, MAX_CPU_MS_PER_INPUT } from './support.js';

test('element table: Z 1..118 in order, unique symbols, masses increase roughly with Z', () => {
  assert.ok(ELEMENTS.length >= 103);
  ELEMENTS.forEach((e, i) => assert.equal(e.Z, i + 1));
  assert.equal(new Set(ELEMENTS.map((e) => e.symbol)).size, ELEMENTS.length);
  assert.equal(elementBySymbol('Li').Z, 3);
  assert.ok(Math.abs(elementBySymbol('Li').atomicMass - 6.94) < 0.01);
  assert.ok(Math.abs(elementBySymbol('O').atomicMass - 15.999) < 0.001);
  assert.equal(elementByNumber(103).symbol, 'Lr');
  assert.equal(elementBySymbol('F').electronegativity, 3.98);
  assertBadInput(() => elementBySymbol('Xx'), /unknown element/);
  assertBadInput(() => elementByNumber(0), /unknown element/);
});

test('element from CIF labels and oxidation-state symbols', () => {
  const cases: [string, string | undefined][] = [
    ['Li1', 'Li'], ['Li+', 'Li'], ['O2-', 'O'], ['Fe3+', 'Fe'], ['OW1', 'O'], ['la', 'La'], ['S2-', 'S'], ['Co', 'Co'], ['Q1', undefined],
  ];
  for (const [label, el] of cases) assert.equal(elementFromLabel(label), el, label);
});

const latticeArb = fc
  .record({
    a: fc.double({ min: 2, max: 20, noNaN: true }),
    b: fc.double({ min: 2, max: 20, noNaN: true }),
    c: fc.double({ min: 2, max: 20, noNaN: true }),
    alpha: fc.double({ min: 60, max: 120, noNaN: true }),
    beta: fc.double({ min: 60, max: 120, noNaN: true }),
    gamma: fc.double({ min: 60, max: 120, noNaN: true }),
  })
  .filter((p) => {
    // Keep only parameter sets that form a cell (Gram determinant clearly positive).
    const r = Math.PI / 180;
    const [ca, cb, cg] = [Math.cos(p.alpha * r), Math.cos(p.beta * r), Math.cos(p.gamma * r)];
    return 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg > 0.05;
  });

test('parameters → vectors → parameters round trip; volume formula; frac ↔ cart (property)', () => {
  fc.assert(
    fc.property(latticeArb, fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), (p, f) => {
      const m = latticeFromParameters(p);
      const q = latticeParameters(m);
      for (const k of ['a', 'b', 'c', 'alpha', 'beta', 'gamma'] as const) assert.ok(Math.abs(p[k] - q[k]) < 1e-8, k);
      const r = Math.PI / 180;
      const [ca, cb, cg] = [Math.cos(p.alpha * r), Math.cos(p.beta * r), Math.cos(p.gamma * r)];
      const v = p.a * p.b * p.c * Math.sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg);
      assert.ok(Math.abs(latticeVolume(m) - v) < 1e-8 * v);
      const back = cartToFrac(fracToCart(f as Vec3, m), invertMat3(m));
      back.forEach((x, k) => assert.ok(Math.abs(x - f[k]!) < 1e-10));
    }),
    { numRuns: 200 },
  );
});

test('pymatgen lattice convention: the jqc OBELiX cell', () => {
  const m = latticeFromParameters({ a: 5.44268689, b: 5.5071, c: 5.98626141, alpha: 63.27439087, beta: 63.91460866, gamma: 60.58000112 });
  const expected: Mat3 = [[4.888293, 0.0, 2.393205], [1.799414, 4.577827, 2.476643], [0.0, 0.0, 5.986261]];
  m.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - expected[i]![j]!) < 1e-6)));
});

test('wrapFrac maps into [0, 1)', () => {
  assert.equal(wrapFrac(1), 0);
  assert.equal(wrapFrac(-0.25), 0.75);
  assert.equal(wrapFrac(2.5), 0.5);
  assert.equal(Object.is(wrapFrac(-0), 0), true);
  const w = wrapFrac(-1e-17);
  assert.ok(w >= 0 && w < 1);
});

test('describeStructure: rock-salt LiCl facts', () => {
  const f = describeStructure(parseStructure('CIF', fixture('licl-sg225-no-ops.cif')));
  assert.equal(f.formula, 'Li4Cl4');
  assert.equal(f.reducedFormula, 'LiCl');
  assert.deepEqual(f.elements, ['Cl', 'Li']);
  assert.equal(f.nelements, 2);
  assert.equal(f.nsites, 8);
  assert.equal(f.natoms, 8);
  assert.equal(f.isOrdered, true);
  assert.ok(Math.abs(f.volumeA3 - 5.13 ** 3) < 1e-9);
  // 4 × (6.941 + 35.453) u in 135.0057 Å³ → 2.086 g/cm³ (handbook density of LiCl: 2.07).
  const expected = (4 * (elementBySymbol('Li').atomicMass + elementBySymbol('Cl').atomicMass) * 1.66053906660) / 5.13 ** 3;
  assert.ok(Math.abs(f.densityGPerCm3 - expected) < 1e-9);
  assert.ok(Math.abs(f.densityGPerCm3 - 2.07) < 0.03);
  assert.deepEqual(
    Object.values(f.lattice).map((x) => +x.toFixed(9)),
    [5.13, 5.13, 5.13, 90, 90, 90],
  );
});

test('describeStructure: a mixed site counts once; atoms are weighted by occupancy', () => {
  const mixed = describeStructure(parseStructure('CIF', fixture('mixed-site-p-3.cif')));
  assert.equal(mixed.nsites, 12);
  assert.ok(Math.abs(mixed.natoms - 12) < 1e-12, 'La 0.5 + Li 0.5 on one site is one atom');
  assert.equal(mixed.isOrdered, false);
  const partial = parseStructure('CIF', fixture('mixed-site-p-3.cif').replace('0.5      .', '0.25     .'));
  assert.ok(Math.abs(describeStructure(partial).natoms - 11.75) < 1e-12, 'La 0.5 + Li 0.25 leaves a quarter vacancy');
});

test('cartesianPositions: [nsites*3] in Å', () => {
  const s = parseStructure('POSCAR', fixture('licl.poscar'));
  const c = cartesianPositions(s);
  assert.equal(c.length, 24);
  assert.deepEqual([...c.slice(3, 6)], [0, 2.565, 2.565]);
});

/** The plain O(n²) merge the grid version must agree with: each site joins the first kept site it matches. */
function mergeByComparingAllPairs(sites: readonly Site[], tolerance: number): Site[] {
  const merged: Site[] = [];
  for (const site of sites) {
    const target = merged.find((m) => sameFracPositionPbc(m.frac, site.frac, tolerance));
    const into = target ?? { species: [], frac: [...site.frac] as Vec3, ...(site.label !== undefined ? { label: site.label } : {}) };
    if (!target) merged.push(into);
    for (const sp of site.species) {
      const existing = into.species.find((x) => x.element === sp.element);
      if (existing) existing.occupancy += sp.occupancy;
      else into.species.push({ ...sp });
    }
  }
  return merged;
}

test('mergeCoLocatedSites equals merging by comparing all pairs, across cell edges and tolerances (property)', () => {
  const coordinate = fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constantFrom(0, 0.99995, 0.99999999, 0.5, 1 / 3));
  const site = fc.record({
    frac: fc.tuple(coordinate, coordinate, coordinate),
    jitter: fc.tuple(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true })),
    element: fc.constantFrom('Li', 'La', 'O'),
    occupancy: fc.double({ min: 0.01, max: 1, noNaN: true }),
  });
  fc.assert(
    fc.property(fc.array(site, { maxLength: 40 }), fc.constantFrom(1e-4, 1e-2, 0.3, 0.6, 1e-9), (raw, tolerance) => {
      // Positions within a few tolerances of each other, so that merges (and near misses) happen.
      const sites: Site[] = raw.map((s, i) => {
        const base = raw[i % 3]?.frac ?? s.frac;
        const frac = base.map((x, k) => wrapFrac(x + s.jitter[k]! * tolerance)) as Vec3;
        return { species: [{ element: s.element, occupancy: s.occupancy }], frac: i % 2 ? frac : s.frac, label: `S${i}` };
      });
      assert.deepEqual(mergeCoLocatedSites(sites, tolerance), mergeByComparingAllPairs(sites, tolerance));
    }),
    { seed: 7, numRuns: 500 },
  );
});

test('mergeCoLocatedSites is linear: 250,000 sites (a 5 MiB POSCAR) within the 1 s bound', () => {
  const sites: Site[] = Array.from({ length: 250_000 }, (_, i) => ({ species: [{ element: 'Li', occupancy: 1 }], frac: [i / 250_000, 0.5, 0.5] }));
  let merged: Site[] = [];
  const { ms } = cpuTime(() => (merged = mergeCoLocatedSites(sites))); // all pairs: ~30 s
  assert.ok(merged.length > 2000 && merged.length < 250_000);
  assert.ok(ms <= MAX_CPU_MS_PER_INPUT, `took ${ms.toFixed(0)} ms of CPU`);
});
