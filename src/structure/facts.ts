/**
 * Facts derived from a structure (what the store keeps in columns) and its canonical hash.
 */
import { createHash } from 'node:crypto';
import type { StructureFacts } from './types.js';
import type { Structure } from './structure.js';
import { elementBySymbol } from './elements.js';
import { formulaString, reducedFormulaString, type Amounts } from './composition.js';
import { fracToCart, latticeParameters, latticeVolume } from './lattice.js';

/** g/cm³ per u/Å³ (1 u = 1.66053906660e-24 g, 1 Å³ = 1e-24 cm³). */
const AMU_PER_A3_TO_G_PER_CM3 = 1.6605390666;
/**
 * Hash resolution, as steps per unit: fractional coordinates 2^13 (≈ 1.2e-4), lengths 2^10 per Å
 * (≈ 1e-3 Å), angles 2^7 per degree (≈ 0.008°), occupancies 2^14.
 *
 * Why powers of two and not 1e-4: rounding to a decimal grid puts the rounding boundaries
 * (…5 in the next decimal) exactly on values that CIFs print with 5 decimals, e.g. 0.08995 read
 * as 0.08994999999999997 after a symmetry operation rounds down while 0.08995 rounds up. A
 * boundary of a 2^-13 grid is an odd multiple of 2^-14, which no number with ≤ 8 decimals (or
 * such a number plus 1/2, 1/3, 1/4, 1/6, 1/8 from a symmetry operation) can equal; such inputs
 * stay more than 1e-10 away from a boundary, far above float noise. Noise comparable to the step
 * (e.g. coordinates re-printed with 5 decimals) can still flip a rounding: that is the
 * documented limit of a rounding hash.
 */
const HASH_FRAC_STEPS = 2 ** 13;
const HASH_LENGTH_STEPS = 2 ** 10;
const HASH_ANGLE_STEPS = 2 ** 7;
const HASH_OCCUPANCY_STEPS = 2 ** 14;
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

/** A fractional coordinate rounded to the grid, then wrapped: an integer in [0, steps) (so 0.99999 ≡ 0). */
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
    ...[p.a, p.b, p.c].map((x) => Math.round(x * HASH_LENGTH_STEPS)),
    ...[p.alpha, p.beta, p.gamma].map((x) => Math.round(x * HASH_ANGLE_STEPS)),
  ].join(',');
  const sites = s.sites
    .map((site) => {
      const species = [...site.species]
        .sort((x, y) => (x.element < y.element ? -1 : x.element > y.element ? 1 : 0))
        .map((sp) => `${sp.element}:${Math.round(sp.occupancy * HASH_OCCUPANCY_STEPS)}`)
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
