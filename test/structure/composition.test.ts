import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseComposition, parseStructure, describeStructure } from '../../src/structure/index.js';
import { OBELIX_DIR, assertBadInput } from './support.js';

test('parseComposition: the product examples', () => {
  const llzo = parseComposition('Li6.4La3Zr1.4Ta0.6O12');
  assert.deepEqual(llzo.amounts, { La: 3, Li: 6.4, O: 12, Ta: 0.6, Zr: 1.4 });
  assert.equal(llzo.formula, 'Li6.4La3Zr1.4Ta0.6O12');
  assert.equal(llzo.reducedFormula, 'Li6.4La3Zr1.4Ta0.6O12');
  assert.deepEqual(llzo.elements, ['La', 'Li', 'O', 'Ta', 'Zr']);
  assert.equal(llzo.nelements, 5);
  assert.ok(Math.abs(llzo.natoms - 23.4) < 1e-12);

  const garnet = parseComposition('Li7La3Zr2O12');
  assert.equal(garnet.reducedFormula, 'Li7La3Zr2O12');
  assert.equal(garnet.natoms, 24);

  const nasicon = parseComposition('LiTi2(PO4)3');
  assert.deepEqual(nasicon.amounts, { Li: 1, O: 12, P: 3, Ti: 2 });
  assert.equal(nasicon.formula, 'LiTi2P3O12');
  assert.equal(nasicon.reducedFormula, 'LiTi2(PO4)3');

  const llto = parseComposition('Li0.33La0.557TiO3');
  assert.deepEqual(llto.amounts, { La: 0.557, Li: 0.33, O: 3, Ti: 1 });
  assert.equal(llto.formula, 'Li0.33La0.557TiO3');
  assert.ok(Math.abs(llto.natoms - 4.887) < 1e-12);
});

test('reduced formulas: gcd, polyanions, special formulas, nesting and spaces', () => {
  assert.equal(parseComposition('Li14La6Zr4O24').reducedFormula, 'Li7La3Zr2O12');
  assert.equal(parseComposition('Li3 Ti6 P9 O36').reducedFormula, 'LiTi2(PO4)3');
  assert.equal(parseComposition('Li2O2').reducedFormula, 'LiO2');
  assert.equal(parseComposition('Cl2').reducedFormula, 'Cl2');
  assert.equal(parseComposition('Li3(P(S2)2)').formula, 'Li3PS4');
  assert.deepEqual(parseComposition('Ca3[Al2(SiO4)3]').amounts, { Al: 2, Ca: 3, O: 12, Si: 3 });
  assert.equal(parseComposition('O12Li7Zr2La3').formula, 'Li7La3Zr2O12', 'electronegativity order, not input order');
});

test('bad compositions are BadInputError naming the problem', () => {
  assertBadInput(() => parseComposition('Li2Xx3'), /unknown element "Xx"/);
  assertBadInput(() => parseComposition('Li(PO4'), /missing "\)"/);
  assertBadInput(() => parseComposition('LiPO4)'), /unexpected "\)"/);
  assertBadInput(() => parseComposition('  '), /empty/);
  assertBadInput(() => parseComposition('li2o'), /unexpected character/);
});

test('reduced formulas of all ordered OBELiX CIFs equal the manifest (pymatgen) column', () => {
  const rows = readFileSync(join(OBELIX_DIR, 'manifest.csv'), 'utf8').trim().split('\n');
  const header = rows[0]!.split(',');
  const col = (name: string) => header.indexOf(name);
  let ordered = 0;
  const mismatches: string[] = [];
  for (const line of rows.slice(1)) {
    // No quoted commas occur before the columns used here (id … cif_formula_reduced).
    const c = line.split(',');
    if (c[col('has_structure')] !== 'True') continue;
    const s = parseStructure('CIF', readFileSync(join(OBELIX_DIR, c[col('cif_path')]!), 'utf8'));
    const facts = describeStructure(s);
    assert.equal(String(facts.nsites), c[col('n_sites')], `${c[0]} n_sites`);
    assert.ok(Math.abs(facts.natoms - Number(c[col('n_atoms_occ_weighted')])) < 1e-3, `${c[0]} natoms`);
    assert.equal(String(facts.isOrdered), c[col('is_ordered')] === 'True' ? 'true' : 'false', `${c[0]} is_ordered`);
    if (c[col('is_ordered')] === 'True') {
      ordered++;
      if (facts.reducedFormula !== c[col('cif_formula_reduced')]) {
        mismatches.push(`${c[0]}: ${facts.reducedFormula} vs ${c[col('cif_formula_reduced')]}`);
      }
    } else {
      // Disordered: only determinism is required (pymatgen prints 8 decimals and "1"s there).
      assert.equal(describeStructure(s).reducedFormula, facts.reducedFormula);
    }
  }
  assert.equal(ordered, 59);
  assert.deepEqual(mismatches, []);
});

test('groups nested deeper than 16 are BAD_USER_INPUT, not a stack overflow', () => {
  const deep = `${'('.repeat(100_000)}Li${')'.repeat(100_000)}`; // a RangeError before the bound
  assertBadInput(() => parseComposition(deep), /groups nested deeper than 16 at position 18/);
  assert.deepEqual(parseComposition(`${'('.repeat(16)}Li${')2'.repeat(16)}`).amounts, { Li: 2 ** 16 });
});

test('every amount must be a formula can write: 1e-4 .. 1e6 (not 0, not Infinity)', () => {
  assertBadInput(() => parseComposition('Li0'), /the amount of Li is 0, outside 0.0001..1000000/); // was formula ""
  assertBadInput(() => parseComposition('(Li)0O'), /the amount of Li is 0/); // was "O", Li silently dropped
  assertBadInput(() => parseComposition('Li0.00001O'), /the amount of Li is 0.00001/); // was "Li0O"
  assertBadInput(() => parseComposition(`Li${'9'.repeat(400)}`), /the amount of Li is Infinity/); // was "LiInfinity"
  assertBadInput(() => parseComposition('(Li100000)100'), /the amount of Li is 10000000/); // was "Li10000000"
  assert.equal(parseComposition('Li0.0001O').formula, 'Li0.0001O');
  assert.equal(parseComposition('Li1000000').reducedFormula, 'Li');
});
