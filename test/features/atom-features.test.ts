import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATOM_FEATURE_LENGTH,
  ATOM_FEATURE_SEGMENTS,
  atomFeatures92,
  writeSiteFeatures,
  elementPropertyVector,
  ELEMENT_PROPERTY_NAMES,
  elementProperties,
  elementTableHash,
} from '../../src/features/index.js';
import { BadInputError } from '../../src/errors.js';

// CGCNN's atom_init.json decoded to one bin per property (MIT, © Tian Xie; see test/fixtures/cgcnn/SOURCE.md).
const ORACLE = join(import.meta.dirname, '../fixtures/cgcnn/atom_init_decoded.csv');

/**
 * (element, segment) pairs where our pymatgen-2022 + Pyykkö-2009 table bins differently from
 * CGCNN's older element table. Group, period, covalent radius, first ionisation energy and block
 * match for all 100 elements. Count: 81 = 23 electronegativity + 37 electron affinity (CGCNN lacks
 * many EAs that pymatgen estimates) + 20 molar volume + 1 valence (Pd: CGCNN counts 12).
 */
const WHITELIST: Record<string, string[]> = {
  H: ['atomic_volume'], He: ['electron_affinity', 'atomic_volume'], Be: ['electron_affinity'],
  N: ['electron_affinity', 'atomic_volume'], F: ['atomic_volume'], Ne: ['electron_affinity', 'atomic_volume'],
  Mg: ['electron_affinity'], Si: ['electronegativity'], Cl: ['atomic_volume'],
  Ar: ['electron_affinity', 'atomic_volume'], Mn: ['electron_affinity'], Cu: ['electronegativity'],
  Zn: ['electron_affinity'], Ga: ['electron_affinity'], Kr: ['electronegativity', 'electron_affinity', 'atomic_volume'],
  Pd: ['valence_electrons'], Cd: ['electron_affinity'], In: ['electron_affinity'], Xe: ['electron_affinity', 'atomic_volume'],
  Pr: ['electron_affinity'], Nd: ['electron_affinity'], Pm: ['electronegativity', 'electron_affinity', 'atomic_volume'],
  Sm: ['electron_affinity'], Eu: ['electronegativity', 'electron_affinity'], Gd: ['electronegativity', 'electron_affinity'],
  Tb: ['electronegativity', 'electron_affinity'], Ho: ['electron_affinity'], Er: ['electron_affinity'],
  Tm: ['atomic_volume'], Yb: ['electronegativity'], Lu: ['electronegativity'], W: ['electronegativity'],
  Re: ['electronegativity'], Pt: ['electronegativity'], Hg: ['electronegativity', 'electron_affinity'],
  Tl: ['electron_affinity'], Pb: ['electronegativity'], Bi: ['electronegativity'], Po: ['electron_affinity'],
  Rn: ['electronegativity', 'electron_affinity', 'atomic_volume'], Ra: ['atomic_volume'], Th: ['electron_affinity'],
  Pa: ['electron_affinity'], U: ['electronegativity', 'electron_affinity'], Np: ['electron_affinity', 'atomic_volume'],
  Pu: ['electron_affinity', 'atomic_volume'], Am: ['electronegativity', 'electron_affinity', 'atomic_volume'],
  Cm: ['electronegativity', 'electron_affinity', 'atomic_volume'],
  Bk: ['electronegativity', 'electron_affinity', 'atomic_volume'], Cf: ['electronegativity', 'electron_affinity', 'atomic_volume'],
  Es: ['electronegativity', 'electron_affinity', 'atomic_volume'], Fm: ['electronegativity', 'electron_affinity'],
};

test('segments tile the 92-dim vector', () => {
  let offset = 0;
  for (const seg of ATOM_FEATURE_SEGMENTS) {
    assert.equal(seg.offset, offset, seg.name);
    offset += seg.length;
  }
  assert.equal(offset, ATOM_FEATURE_LENGTH);
});

test('92-dim one-hot reproduces CGCNN atom_init bins except the whitelisted (element, property) pairs', () => {
  const lines = readFileSync(ORACLE, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const mismatches: string[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const Z = Number(cells[0]);
    const symbol = cells[1]!;
    const v = atomFeatures92(Z);
    for (const seg of ATOM_FEATURE_SEGMENTS) {
      const hot = [...v.subarray(seg.offset, seg.offset + seg.length)].flatMap((x, b) => (x === 1 ? [b] : []));
      assert.ok(hot.length <= 1, `${symbol} ${seg.name}: at most one hot bit`);
      const cell = cells[header.indexOf(seg.name)]!;
      const expected = cell === '' ? [] : [Number(cell)];
      if (JSON.stringify(hot) !== JSON.stringify(expected)) mismatches.push(`${symbol}:${seg.name}`);
    }
  }
  const allowed = Object.entries(WHITELIST).flatMap(([el, segs]) => segs.map((s) => `${el}:${s}`));
  assert.equal(allowed.length, 81);
  assert.deepEqual(mismatches.sort(), allowed.sort());
});

test('occupancy-weighted site features; vacancy share gives zeros', () => {
  const out = new Float32Array(ATOM_FEATURE_LENGTH);
  writeSiteFeatures([{ element: 'Li', occupancy: 0.5 }], out, 0);
  const li = atomFeatures92(3);
  for (let c = 0; c < ATOM_FEATURE_LENGTH; c++) assert.equal(out[c], 0.5 * li[c]!);
  writeSiteFeatures([{ element: 'La', occupancy: 0.75 }, { element: 'Sr', occupancy: 0.25 }], out, 0);
  const la = atomFeatures92(57);
  const sr = atomFeatures92(38);
  for (let c = 0; c < ATOM_FEATURE_LENGTH; c++) assert.ok(Math.abs(out[c]! - (0.75 * la[c]! + 0.25 * sr[c]!)) < 1e-7);
  assert.throws(() => writeSiteFeatures([{ element: 'Xx', occupancy: 1 }], out, 0), BadInputError);
  assert.throws(() => atomFeatures92(101), BadInputError);
});

test('continuous element property vectors are finite and named', () => {
  const li = elementPropertyVector('Li');
  assert.equal(li.length, ELEMENT_PROPERTY_NAMES.length);
  assert.equal(li[ELEMENT_PROPERTY_NAMES.indexOf('atomic_number')], 3);
  assert.ok(Math.abs(li[ELEMENT_PROPERTY_NAMES.indexOf('electronegativity_pauling')]! - 0.98) < 1e-6);
  assert.equal(li[ELEMENT_PROPERTY_NAMES.indexOf('covalent_radius_pm')], 133);
  const he = elementPropertyVector('He'); // Pauling EN missing → imputed median
  assert.ok(he.every(Number.isFinite));
  assert.ok(Number.isNaN(elementProperties('He').electronegativityPauling));
  assert.match(elementTableHash(), /^[0-9a-f]{64}$/);
});
