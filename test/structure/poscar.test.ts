import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStructure, describeStructure, latticeVolume } from '../../src/structure/index.js';
import { fixture, siteMismatches } from './support.js';

test('hand-written VASP 5 POSCAR (Direct) gives rock-salt LiCl', () => {
  const s = parseStructure('POSCAR', fixture('licl.poscar'));
  assert.deepEqual(s.lattice, [[5.13, 0, 0], [0, 5.13, 0], [0, 0, 5.13]]);
  assert.equal(s.sites.length, 8);
  assert.deepEqual(s.sites[1], { species: [{ element: 'Li', occupancy: 1 }], frac: [0, 0.5, 0.5], label: 'Li2' });
  assert.deepEqual(s.sites[5]!.species, [{ element: 'Cl', occupancy: 1 }]);
  assert.equal(describeStructure(s).reducedFormula, 'LiCl');
});

test('negative scale (volume), selective dynamics, Cartesian and POTCAR symbols', () => {
  const s = parseStructure('POSCAR', fixture('licl-cartesian-selective.contcar'));
  assert.ok(Math.abs(latticeVolume(s.lattice) - 135.005697) < 1e-6);
  const reference = parseStructure('POSCAR', fixture('licl.poscar'));
  assert.deepEqual(siteMismatches(reference, s, 1e-6), []);
});

test('three per-axis scale factors and a CRLF file', () => {
  const text = [
    'orthorhombic Li',
    '2.0 3.0 4.0',
    '1 0 0',
    '0 1 0',
    '0 0 1',
    'Li',
    '2',
    'direct',
    '0 0 0',
    '0.5 0.5 0.5',
  ].join('\r\n');
  const s = parseStructure('POSCAR', text);
  assert.deepEqual(s.lattice, [[2, 0, 0], [0, 3, 0], [0, 0, 4]]);
  assert.deepEqual(s.sites[1]!.frac, [0.5, 0.5, 0.5]);
});

test('VASP 4 POSCAR (no species line) is rejected with a clear message', () => {
  const text = ['old', '1.0', '4 0 0', '0 4 0', '0 0 4', '1 1', 'Direct', '0 0 0', '0.5 0.5 0.5'].join('\n');
  assert.throws(() => parseStructure('POSCAR', text), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BAD_USER_INPUT');
    assert.match(err.message, /VASP 4/);
    assert.match(err.message, /line 6/);
    return true;
  });
});

test('too few coordinate lines names the missing atom', () => {
  const text = fixture('licl.poscar').trimEnd().split('\n').slice(0, -1).join('\n');
  assert.throws(() => parseStructure('POSCAR', text), /atom 8/);
});
