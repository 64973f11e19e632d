/**
 * Reference test: every OBELiX CIF (254) and every open_li_pool_v1 CIF (279) must parse to the
 * P1 cell that pymatgen's CifParser produced (structures_p1.jsonl / structures.jsonl): same site
 * count, and each reference site has a parsed site with the same species → occupancy map
 * (±1e-3) within 1e-3 Å (minimum image). Lattices must agree to 1e-3 Å row by row (OBELiX; same
 * pymatgen convention) or by parameters (open pool, whose JSON keeps the original MP orientation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStructure, latticeParameters, type Structure, type Mat3, type Vec3 } from '../../src/structure/index.js';
import { minImageDistance } from './support.js';

const DATA = join(import.meta.dirname, '../../data');
const POSITION_TOLERANCE_A = 1e-3;
const LATTICE_TOLERANCE_A = 1e-3;
const ANGLE_TOLERANCE_DEG = 1e-3;
const OCCUPANCY_TOLERANCE = 1e-3;

interface ReferenceRecord {
  id: string;
  lattice: Mat3;
  sites: { frac: Vec3; species: Record<string, number> }[];
}

function readJsonl(path: string): ReferenceRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ReferenceRecord);
}


function sameSpecies(ref: Record<string, number>, got: { element: string; occupancy: number }[]): boolean {
  const keys = Object.keys(ref);
  if (keys.length !== got.length) return false;
  return keys.every((el) => {
    const g = got.find((s) => s.element === el);
    return g !== undefined && Math.abs(g.occupancy - ref[el]!) <= OCCUPANCY_TOLERANCE;
  });
}

/** Returns a list of problems (empty when the parsed structure matches the reference). */
function compare(parsed: Structure, ref: ReferenceRecord, lattice: 'vectors' | 'parameters'): string[] {
  const problems: string[] = [];
  if (lattice === 'vectors') {
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (Math.abs(parsed.lattice[i]![j]! - ref.lattice[i]![j]!) > LATTICE_TOLERANCE_A) {
          problems.push(`lattice[${i}][${j}] ${parsed.lattice[i]![j]} vs ${ref.lattice[i]![j]}`);
        }
      }
    }
  } else {
    const p = latticeParameters(parsed.lattice);
    const r = latticeParameters(ref.lattice);
    for (const k of ['a', 'b', 'c'] as const) {
      if (Math.abs(p[k] - r[k]) > LATTICE_TOLERANCE_A) problems.push(`${k} ${p[k]} vs ${r[k]}`);
    }
    for (const k of ['alpha', 'beta', 'gamma'] as const) {
      if (Math.abs(p[k] - r[k]) > ANGLE_TOLERANCE_DEG) problems.push(`${k} ${p[k]} vs ${r[k]}`);
    }
  }
  if (parsed.sites.length !== ref.sites.length) {
    problems.push(`${parsed.sites.length} sites vs ${ref.sites.length} in the reference`);
  }
  // Compare in the parsed lattice: both coordinate sets are fractional in the same cell.
  const used = new Set<number>();
  for (const rs of ref.sites) {
    const idx = parsed.sites.findIndex(
      (ps, i) =>
        !used.has(i) &&
        minImageDistance(ps.frac, rs.frac, parsed.lattice) <= POSITION_TOLERANCE_A &&
        sameSpecies(rs.species, ps.species),
    );
    if (idx < 0) {
      problems.push(`no parsed site matches ${JSON.stringify(rs.species)} at ${rs.frac.join(', ')}`);
      if (problems.length > 5) break;
    } else used.add(idx);
  }
  return problems;
}

function checkFolder(cifDir: string, jsonl: string, lattice: 'vectors' | 'parameters', expectedCount: number): void {
  const refs = readJsonl(jsonl);
  const byId = new Map(refs.map((r) => [r.id, r]));
  const ids = refs.map((r) => r.id).filter((id) => {
    try {
      readFileSync(join(cifDir, `${id}.cif`));
      return true;
    } catch {
      return false;
    }
  });
  assert.equal(ids.length, expectedCount, 'number of CIFs with a reference record');
  const failures: string[] = [];
  const started = performance.now();
  for (const id of ids) {
    const text = readFileSync(join(cifDir, `${id}.cif`), 'utf8');
    try {
      const parsed = parseStructure('CIF', text);
      const problems = compare(parsed, byId.get(id)!, lattice);
      if (problems.length) failures.push(`${id}: ${problems.join('; ')}`);
    } catch (err) {
      failures.push(`${id}: threw ${(err as Error).message}`);
    }
  }
  const ms = performance.now() - started;
  console.log(`${cifDir}: ${ids.length - failures.length}/${ids.length} match the reference (${ms.toFixed(0)} ms incl. comparison)`);
  assert.deepEqual(failures, [], `${failures.length} CIFs differ from the reference`);
}

test('all 254 OBELiX CIFs match pymatgen P1 references (structures_p1.jsonl)', () => {
  checkFolder(join(DATA, 'obelix/cifs'), join(DATA, 'obelix/structures_p1.jsonl'), 'vectors', 254);
});

test('all 279 open_li_pool_v1 CIFs match structures.jsonl', () => {
  checkFolder(
    join(DATA, 'candidates/open_li_pool_v1/cifs'),
    join(DATA, 'candidates/open_li_pool_v1/structures.jsonl'),
    'parameters',
    279,
  );
});
