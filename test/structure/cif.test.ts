import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseStructure,
  describeStructure,
  parseSymmetryOperation,
  applyOperation,
  operationsFromSpaceGroupNumber,
  operationsFromHmSymbol,
  latticeParameters,
  type Structure,
} from '../../src/structure/index.js';
import { tokenizeCif, readCifBlocks, parseCifNumber } from '../../src/structure/cif-tokenizer.js';
import { fixture, minImageDistance } from './support.js';

const ROCK_SALT_LI = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]] as const;
const ROCK_SALT_CL = [[0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]] as const;

function assertRockSalt(s: Structure): void {
  assert.equal(s.sites.length, 8);
  for (const [element, positions] of [['Li', ROCK_SALT_LI], ['Cl', ROCK_SALT_CL]] as const) {
    for (const p of positions) {
      const hit = s.sites.filter(
        (site) => site.species[0]!.element === element && minImageDistance(site.frac, [...p], s.lattice) < 1e-6,
      );
      assert.equal(hit.length, 1, `${element} at ${p.join(',')}`);
    }
  }
  const lp = latticeParameters(s.lattice);
  assert.ok(Math.abs(lp.a - 5.13) < 1e-9 && Math.abs(lp.alpha - 90) < 1e-9);
}

test('space-group-number-only CIF (225, no op loop) expands 2 sites to the 8 of rock salt', () => {
  assertRockSalt(parseStructure('CIF', fixture('licl-sg225-no-ops.cif')));
});

test('H-M-symbol-only CIF with label-derived elements expands to rock salt too', () => {
  assertRockSalt(parseStructure('CIF', fixture('licl-hm-symbol-only.cif')));
});

test('mixed-site fixture: quoted strings, text field, ?, ., uncertainties, merging and renormalisation', () => {
  const s = parseStructure('CIF', fixture('mixed-site-p-3.cif'));
  assert.equal(s.sites.length, 12);
  const lp = latticeParameters(s.lattice);
  assert.ok(Math.abs(lp.a - 5) < 1e-9, 'a from "5.0000(3)", not the 99 inside the text field');
  assert.ok(Math.abs(lp.gamma - 120) < 1e-9);

  const mixed = s.sites.filter((x) => x.species.length > 1);
  assert.equal(mixed.length, 1, 'La1 and Li1 rows at the origin become one site');
  assert.deepEqual(
    [...mixed[0]!.species].sort((a, b) => a.element.localeCompare(b.element)),
    [{ element: 'La', occupancy: 0.5 }, { element: 'Li', occupancy: 0.5 }],
  );
  // 0.34 + 0.68 = 1.02 of Li on one position: added, then renormalised to 1.
  const li = s.sites.filter((x) => x.species.length === 1 && x.species[0]!.element === 'Li');
  assert.equal(li.length, 3);
  for (const site of li) assert.ok(Math.abs(site.species[0]!.occupancy - 1) < 1e-12);
  // 0.33333/0.66667 snap to thirds, so the 3-fold axis maps Ti onto itself: 2 Ti, not 6.
  const ti = s.sites.filter((x) => x.species[0]!.element === 'Ti');
  assert.equal(ti.length, 2);
  assert.ok(minImageDistance(ti[0]!.frac, [1 / 3, 2 / 3, 0.25], s.lattice) < 1e-9);
  assert.equal(s.sites.filter((x) => x.species[0]!.element === 'O').length, 6);
  for (const site of s.sites) for (const x of site.frac) assert.ok(x >= 0 && x < 1);

  const facts = describeStructure(s);
  assert.equal(facts.isOrdered, false);
  assert.equal(facts.formula, 'Li3.5La0.5Ti2O6');
});

test('tokenizer: quotes close only before whitespace, text fields, comments, line numbers', () => {
  const toks = tokenizeCif("_a 'it's ok' # comment\n_b \"x y\"\n;\nline 1\n_c 2\n;\n_d ?\n");
  assert.deepEqual(
    toks.map((t) => [t.text, t.line, t.quoted]),
    [
      ['_a', 1, false], ["it's ok", 1, true],
      ['_b', 2, false], ['x y', 2, true],
      ['\nline 1\n_c 2', 3, true],
      ['_d', 7, false], ['?', 7, false],
    ],
  );
  const [block] = readCifBlocks("data_t\n_x '?'\n_y ?\n_z .\n");
  assert.equal(block!.items.get('_x')!.value, '?', 'a quoted ? is a value');
  assert.equal(block!.items.get('_y')!.value, null);
  assert.equal(block!.items.get('_z')!.value, null);
});

test('CIF numbers with standard uncertainties', () => {
  assert.equal(parseCifNumber('0.1234(5)'), 0.1234);
  assert.equal(parseCifNumber('-.5'), -0.5);
  assert.equal(parseCifNumber('1.2e-3(2)'), 1.2e-3);
  assert.ok(Number.isNaN(parseCifNumber('abc')));
  assert.ok(Number.isNaN(parseCifNumber('NaN')));
});

test('symmetry operation strings', () => {
  const f: [number, number, number] = [0.1, 0.2, 0.3];
  const cases: [string, [number, number, number]][] = [
    ['x+1/2,-y,z', [0.6, -0.2, 0.3]],
    ['-x+y, 1/2+x, z', [0.1, 0.6, 0.3]],
    ['x-y,-y,-z+0.5', [-0.1, -0.2, 0.2]],
    ['X, Y, 1/4-Z', [0.1, 0.2, -0.05]],
    ['2x, y+0.25, -z', [0.2, 0.45, -0.3]],
  ];
  for (const [text, expected] of cases) {
    const got = applyOperation(parseSymmetryOperation(text), f);
    got.forEach((v, k) => assert.ok(Math.abs(v - expected[k]!) < 1e-12, `${text}[${k}] = ${v}`));
  }
  assert.throws(() => parseSymmetryOperation('x,y'), /three/);
  assert.throws(() => parseSymmetryOperation('x,y,w'), /symmetry operation/);
});

test('space-group operations from moyo: counts and settings', () => {
  assert.equal(operationsFromSpaceGroupNumber(1).length, 1);
  assert.equal(operationsFromSpaceGroupNumber(14).length, 4);
  assert.equal(operationsFromSpaceGroupNumber(225).length, 192);
  assert.equal(operationsFromHmSymbol('P 1 21/c 1')!.length, 4);
  assert.equal(operationsFromHmSymbol('Fm-3m')!.length, 192);
  assert.equal(operationsFromHmSymbol('Q 99'), undefined);
  // Fd-3m without a suffix uses the ITA standard origin choice 2: inversion through the origin.
  const hasInversionAtOrigin = (ops: ReturnType<typeof operationsFromSpaceGroupNumber>) =>
    ops.some((op) => op.rotation.every((row, i) => row.every((v, j) => v === (i === j ? -1 : 0))) && op.translation.every((t) => t === 0));
  assert.ok(hasInversionAtOrigin(operationsFromHmSymbol('F d -3 m')!));
  assert.ok(!hasInversionAtOrigin(operationsFromHmSymbol('F d -3 m:1')!));
});

test('a byte-order mark and CRLF line ends are accepted', () => {
  const text = `\uFEFF${fixture('mixed-site-p-3.cif').replace(/\n/g, '\r\n')}`;
  assert.equal(parseStructure('CIF', text).sites.length, 12);
});

test('the first data block with atom sites is used', () => {
  const text = `data_empty\n_cell_length_a 3\n\n${fixture('licl-sg225-no-ops.cif')}\ndata_other\n_cell_length_a 9\n`;
  assert.equal(parseStructure('CIF', text).sites.length, 8);
});

test('an H-M symbol naming a non-standard setting wins over the IT number (as in pymatgen)', () => {
  // P 1 1 21/b is P21/c (14) with unique axis c: the 2-fold screw runs along c.
  const text = [
    'data_setting',
    "_symmetry_space_group_name_H-M 'P 1 1 21/b'",
    '_symmetry_Int_Tables_number 14',
    '_cell_length_a 5', '_cell_length_b 6', '_cell_length_c 7',
    '_cell_angle_alpha 90', '_cell_angle_beta 90', '_cell_angle_gamma 100',
    'loop_', '_atom_site_label', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z',
    'Li1 0.1 0.2 0.3',
  ].join('\n');
  const s = parseStructure('CIF', text);
  assert.equal(s.sites.length, 4);
  // Screw 2_1 along c with glide b: (-x, -y+1/2, z+1/2) is among the images.
  assert.ok(s.sites.some((x) => minImageDistance(x.frac, [0.9, 0.3, 0.8], s.lattice) < 1e-9));
});
