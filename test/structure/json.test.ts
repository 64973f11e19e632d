import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseStructure,
  describeStructure,
  structureToJson,
  latticeParameters,
} from '../../src/structure/index.js';
import { OBELIX_DIR, fixture, siteMismatches } from './support.js';

const P1_JSONL = join(OBELIX_DIR, 'structures_p1.jsonl');

test('OPTIMADE entry {attributes: …} gives rock-salt LiCl equal to the POSCAR', () => {
  const s = parseStructure('JSON', fixture('licl.optimade.json'));
  const poscar = parseStructure('POSCAR', fixture('licl.poscar'));
  assert.deepEqual(siteMismatches(poscar, s, 1e-9), []);
});

test('OPTIMADE species with partial concentration and vacancy', () => {
  const doc = {
    lattice_vectors: [[4, 0, 0], [0, 4, 0], [0, 0, 4]],
    species: [
      { name: 'LiLa', chemical_symbols: ['Li', 'La'], concentration: [0.3, 0.5] },
      { name: 'Li', chemical_symbols: ['Li', 'vacancy'], concentration: [0.75, 0.25] },
    ],
    species_at_sites: ['LiLa', 'Li'],
    cartesian_site_positions: [[0, 0, 0], [2, 2, 2]],
  };
  const s = parseStructure('JSON', JSON.stringify(doc));
  assert.deepEqual(s.sites[0]!.species, [{ element: 'Li', occupancy: 0.3 }, { element: 'La', occupancy: 0.5 }]);
  assert.deepEqual(s.sites[1], { species: [{ element: 'Li', occupancy: 0.75 }], frac: [0.5, 0.5, 0.5] });
});

test('pymatgen-like records of structures_p1.jsonl parse directly', () => {
  const lines = readFileSync(P1_JSONL, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 20);
  for (const line of lines) {
    const rec = JSON.parse(line) as { id: string; sites: { species: Record<string, number> }[]; lattice: number[][] };
    const s = parseStructure('JSON', line);
    assert.equal(s.sites.length, rec.sites.length, rec.id);
    assert.deepEqual(s.lattice, rec.lattice);
    assert.deepEqual(
      Object.fromEntries(s.sites[0]!.species.map((x) => [x.element, x.occupancy])),
      rec.sites[0]!.species,
    );
  }
});

test('pymatgen as_dict shape ({lattice: {matrix}, sites: [{abc, species: [{element, occu}]}]})', () => {
  const doc = {
    lattice: { matrix: [[3, 0, 0], [0, 3, 0], [0, 0, 3]] },
    sites: [{ abc: [0, 0, 0], species: [{ element: 'Li', occu: 0.5 }, { element: 'Na', occu: 0.5 }], label: 'A' }],
  };
  const s = parseStructure('JSON', JSON.stringify(doc));
  assert.deepEqual(s.sites, [{ species: [{ element: 'Li', occupancy: 0.5 }, { element: 'Na', occupancy: 0.5 }], frac: [0, 0, 0], label: 'A' }]);
});

test('structureToJson round trip keeps sites, lattice and hash (first 60 OBELiX records)', () => {
  const lines = readFileSync(P1_JSONL, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 60);
  let disordered = 0;
  for (const line of lines) {
    const s = parseStructure('JSON', line);
    const json = structureToJson(s);
    assert.ok(json.species.every((sp) => Math.abs(sp.concentration.reduce((a, b) => a + b, 0) - 1) < 1e-9));
    const back = parseStructure('JSON', JSON.stringify(json));
    assert.deepEqual(siteMismatches(s, back, 1e-6, 1e-9), []);
    const a = latticeParameters(s.lattice);
    const b = latticeParameters(back.lattice);
    assert.ok(Math.abs(a.a - b.a) < 1e-9 && Math.abs(a.gamma - b.gamma) < 1e-9);
    assert.equal(describeStructure(back).hash, describeStructure(s).hash);
    if (!describeStructure(s).isOrdered) disordered++;
  }
  assert.ok(disordered > 10, 'the sample includes disordered structures');
});
