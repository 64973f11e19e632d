/**
 * Facts derived from a structure (what the store keeps in columns) and its canonical hash.
 */
import { createHash } from 'node:crypto';
import type { StructureFacts } from './index.js';
import type { Structure } from './structure.js';
import { elementBySymbol } from './elements.js';
import { formulaString, reducedFormulaString, type Amounts } from './composition.js';
import { fracToCart, latticeParameters, latticeVolume } from './lattice.js';

/** g/cm³ per u/Å³ (1 u = 1.66053906660e-24 g, 1 Å³ = 1e-24 cm³). */
const AMU_PER_A3_TO_G_PER_CM3 = 1.6605390666;
/** Hash resolution: fractional coordinates to 1e-4, lengths to 1e-3 Å, angles to 1e-2°, occupancies to 1e-4. */
const HASH_FRAC_STEPS = 10_000;
const HASH_LENGTH_DECIMALS = 3;
const HASH_ANGLE_DECIMALS = 2;
const HASH_OCCUPANCY_DECIMALS = 4;
/** Bump when the canonical form changes, so old and new hashes never collide silently. */
const HASH_VERSION = 'ionsieve-structure-hash-v1';

/** Occupancy-weighted element amounts in the cell. */
export function cellAmounts(s: Structure): Amounts {
  const amounts: Amounts = {};
  for (const site of s.sites) {
    for (const sp of site.species) amounts[sp.element] = (amounts[sp.element] ?? 0) + sp.occupancy;
  }
  return amounts;
}

export function isOrdered(s: Structure): boolean {
  return s.sites.every((site) => site.species.length === 1 && Math.abs(site.species[0]!.occupancy - 1) < 1e-8);
}

/** Cartesian positions in Å, flat: [nsites * 3] as x0, y0, z0, x1, … */
export function cartesianPositions(s: Structure): Float64Array {
  const out = new Float64Array(s.sites.length * 3);
  s.sites.forEach((site, i) => out.set(fracToCart(site.frac, s.lattice), i * 3));
  return out;
}

/** A fractional coordinate rounded to 1e-4 and then wrapped, as an integer 0..9999 (so 0.99999 ≡ 0). */
function canonicalFrac(x: number): number {
  const r = Math.round(x * HASH_FRAC_STEPS) % HASH_FRAC_STEPS;
  return r < 0 ? r + HASH_FRAC_STEPS : r;
}

/**
 * sha256 (hex) of a canonical text: rounded lattice parameters plus the sorted list of sites
 * (species sorted by element, rounded occupancies, rounded wrapped fractional coordinates).
 * Invariant to site order, wrapping, float noise below the rounding steps, lattice orientation
 * and input format; not to a different cell choice (supercell, other setting).
 */
export function structureHash(s: Structure): string {
  const p = latticeParameters(s.lattice);
  const lattice = [
    p.a.toFixed(HASH_LENGTH_DECIMALS),
    p.b.toFixed(HASH_LENGTH_DECIMALS),
    p.c.toFixed(HASH_LENGTH_DECIMALS),
    p.alpha.toFixed(HASH_ANGLE_DECIMALS),
    p.beta.toFixed(HASH_ANGLE_DECIMALS),
    p.gamma.toFixed(HASH_ANGLE_DECIMALS),
  ].join(',');
  const sites = s.sites
    .map((site) => {
      const species = [...site.species]
        .sort((x, y) => (x.element < y.element ? -1 : x.element > y.element ? 1 : 0))
        .map((sp) => `${sp.element}:${sp.occupancy.toFixed(HASH_OCCUPANCY_DECIMALS)}`)
        .join(',');
      return `${species}@${site.frac.map(canonicalFrac).join(',')}`;
    })
    .sort();
  return createHash('sha256').update(`${HASH_VERSION}|${lattice}|${sites.join(';')}`).digest('hex');
}

export function describeStructure(s: Structure): StructureFacts {
  const amounts = cellAmounts(s);
  const elements = Object.keys(amounts).sort();
  const volumeA3 = latticeVolume(s.lattice);
  const massU = elements.reduce((acc, el) => acc + amounts[el]! * elementBySymbol(el).atomicMass, 0);
  return {
    formula: formulaString(amounts),
    reducedFormula: reducedFormulaString(amounts),
    elements,
    nelements: elements.length,
    nsites: s.sites.length,
    natoms: elements.reduce((acc, el) => acc + amounts[el]!, 0),
    volumeA3,
    densityGPerCm3: (massU / volumeA3) * AMU_PER_A3_TO_G_PER_CM3,
    isOrdered: isOrdered(s),
    lattice: latticeParameters(s.lattice),
    hash: structureHash(s),
  };
}
