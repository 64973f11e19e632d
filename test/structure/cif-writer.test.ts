import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseStructure, describeStructure, structureToCif, latticeParameters } from '../../src/structure/index.js';
import { OBELIX_CIFS, fixture, siteMismatches } from './support.js';

test('structureToCif → parseStructure round trip for all OBELiX CIFs (sites, occupancies, hash)', () => {
  const files = readdirSync(OBELIX_CIFS).filter((f) => f.endsWith('.cif'));
  assert.equal(files.length, 254);
  for (const f of files) {
    const s = parseStructure('CIF', readFileSync(join(OBELIX_CIFS, f), 'utf8'));
    const text = structureToCif(s, f.replace('.cif', ''));
    const back = parseStructure('CIF', text);
    const problems = siteMismatches(s, back, 1e-6, 1e-7);
    assert.deepEqual(problems, [], f);
    // Same pymatgen convention on both sides, so vectors agree, not only parameters.
    back.lattice.forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - s.lattice[i]![j]!) < 1e-6, `${f} lattice`)));
    assert.equal(describeStructure(back).hash, describeStructure(s).hash, f);
  }
});

test('written CIF is P1 with occupancy column and one row per species', () => {
  const s = parseStructure('CIF', fixture('mixed-site-p-3.cif'));
  const text = structureToCif(s, 'mixed test');
  assert.match(text, /^data_mixed_test$/m);
  assert.match(text, /_symmetry_Int_Tables_number\s+1$/m);
  assert.match(text, /_atom_site_occupancy/);
  const rows = text.split('\n').filter((l) => /^ {2}[A-Z][a-z]? {2}/.test(l));
  assert.equal(rows.length, 13, '12 sites, one of them with two species');
  const lp = latticeParameters(parseStructure('CIF', text).lattice);
  assert.ok(Math.abs(lp.gamma - 120) < 1e-6);
});
