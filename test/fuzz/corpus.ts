/**
 * Seed inputs for the fuzz tests: the shipped CIFs (OBELiX and the candidate pool), the structure
 * fixtures, and POSCAR / OPTIMADE JSON / pymatgen-like JSON written by the project's own writers
 * from a fixed subset of those CIFs. Sorted by length, so fast-check shrinks towards small seeds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '../../src/errors.js';
import {
  parseStructure,
  structureToCif,
  structureToJson,
  structureToPoscar,
  type Structure,
  type StructureFormat,
} from '../../src/structure/index.js';

export interface Sample {
  format: StructureFormat;
  text: string;
  /** Where it came from (file name, plus the writer for derived samples). */
  origin: string;
}

const ROOT = new URL('../../', import.meta.url).pathname;
const CIF_DIRS = ['data/obelix/cifs', 'data/candidates/open_li_pool_v1/cifs'];
const FIXTURE_DIR = 'test/fixtures/structures';
/** Every n-th shipped CIF is parsed and written back as POSCAR and JSON. */
const DERIVED_EVERY = 12;

function fixtureFormat(name: string): StructureFormat | undefined {
  if (name.endsWith('.cif')) return 'CIF';
  if (name.endsWith('.json')) return 'JSON';
  if (name.endsWith('.poscar') || name.endsWith('.contcar')) return 'POSCAR';
  return undefined;
}

/** The pymatgen-like shape of our data files: {lattice: {matrix}, sites: [{abc, species: [{element, occu}]}]}. */
function pymatgenLikeJson(s: Structure): string {
  return JSON.stringify({
    lattice: { matrix: s.lattice },
    sites: s.sites.map((site) => ({
      abc: site.frac,
      species: site.species.map((sp) => ({ element: sp.element, occu: sp.occupancy })),
      label: site.label,
    })),
  });
}

function derived(structure: Structure, origin: string): Sample[] {
  const out: Sample[] = [
    { format: 'CIF', text: structureToCif(structure), origin: `${origin} → structureToCif` },
    { format: 'JSON', text: JSON.stringify(structureToJson(structure), null, 1), origin: `${origin} → structureToJson` },
    {
      format: 'JSON',
      text: JSON.stringify({ data: { id: '1', type: 'structures', attributes: structureToJson(structure) } }),
      origin: `${origin} → OPTIMADE entry`,
    },
    { format: 'JSON', text: pymatgenLikeJson(structure), origin: `${origin} → pymatgen-like JSON` },
  ];
  try {
    out.push({ format: 'POSCAR', text: structureToPoscar(structure), origin: `${origin} → structureToPoscar` });
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error; // a disordered structure has no POSCAR
  }
  return out;
}

let corpus: Sample[] | undefined;

/** All seed samples (loaded once). */
export function loadCorpus(): Sample[] {
  if (corpus) return corpus;
  const samples: Sample[] = [];
  let n = 0;
  for (const dir of CIF_DIRS) {
    for (const name of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.cif')).sort()) {
      const text = readFileSync(join(ROOT, dir, name), 'utf8');
      samples.push({ format: 'CIF', text, origin: `${dir}/${name}` });
      if (n++ % DERIVED_EVERY === 0) samples.push(...derived(parseStructure('CIF', text), `${dir}/${name}`));
    }
  }
  for (const name of readdirSync(join(ROOT, FIXTURE_DIR)).sort()) {
    const format = fixtureFormat(name);
    if (format) samples.push({ format, text: readFileSync(join(ROOT, FIXTURE_DIR, name), 'utf8'), origin: `${FIXTURE_DIR}/${name}` });
  }
  samples.sort((a, b) => a.text.length - b.text.length || (a.origin < b.origin ? -1 : 1));
  corpus = samples;
  return corpus;
}

/** Formulas (valid and not) for composition inputs. */
export const COMPOSITIONS = ['Li7La3Zr2O12', 'Li6.4La3Zr1.4Ta0.6O12', 'Li3PS4', 'LiCl', 'Li10GeP2S12', 'Li2O2'];
