/**
 * CGCNN-compatible 92-dim one-hot atom features (knagcn.md §2.1), computed from our own element table.
 *
 * Layout (offset, length, property, binning):
 *   0 19 group            b = group (0 for La–Yb, Ac–No)
 *  19  7 period           b = period − 1
 *  26 10 Pauling EN       10 equal bins on [0.5, 4.0]
 *  36 10 covalent radius  10 equal bins on [25, 250] pm
 *  46 12 valence e⁻       b = n − 1
 *  58 10 first IE         10 equal bins of ln(IE / eV) on [1.3, 3.3]
 *  68 10 electron aff.    10 equal bins on [−3.0, 3.7] eV
 *  78  4 block            s, p, d, f
 *  82 10 molar volume     10 equal bins of ln(V / cm³·mol⁻¹) on [1.5, 4.3]
 * A missing property leaves its segment all zero.
 */
import { BadInputError } from '../errors.js';
import type { SpeciesOccupancy } from '../structure/structure.js';
import { elementBySymbol } from '../structure/elements.js';
import { elementPropertiesByZ, MAX_ELEMENT_Z, type ElementProperties } from './element-table.js';

export const ATOM_FEATURE_LENGTH = 92;

interface BinnedSegment {
  name: string;
  offset: number;
  length: number;
  /** Bin index 0..length−1, or undefined when the property is missing. */
  bin(e: ElementProperties): number | undefined;
}

/** b = clamp(floor((v − lo) / width), 0, bins − 1); undefined for NaN. */
function equalBins(value: number, lo: number, hi: number, bins: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  const width = (hi - lo) / bins;
  return Math.min(bins - 1, Math.max(0, Math.floor((value - lo) / width)));
}

const BLOCK_INDEX = { s: 0, p: 1, d: 2, f: 3 } as const;

/** The nine segments in order; offsets sum to 92. Exported for tests and documentation. */
export const ATOM_FEATURE_SEGMENTS: readonly BinnedSegment[] = [
  { name: 'group', offset: 0, length: 19, bin: (e) => e.group },
  { name: 'period', offset: 19, length: 7, bin: (e) => e.period - 1 },
  { name: 'electronegativity', offset: 26, length: 10, bin: (e) => equalBins(e.electronegativityPauling, 0.5, 4.0, 10) },
  { name: 'covalent_radius', offset: 36, length: 10, bin: (e) => equalBins(e.covalentRadiusPm, 25, 250, 10) },
  { name: 'valence_electrons', offset: 46, length: 12, bin: (e) => e.valenceElectrons - 1 },
  { name: 'first_ionization', offset: 58, length: 10, bin: (e) => equalBins(Math.log(e.firstIonizationEnergyEv), 1.3, 3.3, 10) },
  { name: 'electron_affinity', offset: 68, length: 10, bin: (e) => equalBins(e.electronAffinityEv, -3.0, 3.7, 10) },
  { name: 'block', offset: 78, length: 4, bin: (e) => BLOCK_INDEX[e.block] },
  { name: 'atomic_volume', offset: 82, length: 10, bin: (e) => equalBins(Math.log(e.molarVolumeCm3PerMol), 1.5, 4.3, 10) },
];

let featureTable: Float32Array | undefined;

/** All 100 element vectors, row Z−1: [100 · 92] float32 (built once). */
export function atomFeatureTable(): Float32Array {
  if (featureTable) return featureTable;
  const table = new Float32Array(MAX_ELEMENT_Z * ATOM_FEATURE_LENGTH);
  for (let Z = 1; Z <= MAX_ELEMENT_Z; Z++) {
    const e = elementPropertiesByZ(Z);
    for (const seg of ATOM_FEATURE_SEGMENTS) {
      const b = seg.bin(e);
      if (b !== undefined && b >= 0 && b < seg.length) table[(Z - 1) * ATOM_FEATURE_LENGTH + seg.offset + b] = 1;
    }
  }
  featureTable = table;
  return table;
}

/** The 92-dim one-hot vector of element Z (a copy). */
export function atomFeatures92(Z: number): Float32Array {
  if (!Number.isInteger(Z) || Z < 1 || Z > MAX_ELEMENT_Z) {
    throw new BadInputError(`no atom features for atomic number ${Z} (1..${MAX_ELEMENT_Z})`, { Z });
  }
  return atomFeatureTable().slice((Z - 1) * ATOM_FEATURE_LENGTH, Z * ATOM_FEATURE_LENGTH);
}

/**
 * Features of a possibly disordered site (knagcn.md §1.6): Σ occupancy · vector. With total
 * occupancy < 1 the vacancy share contributes zeros, so the vector shrinks instead of renormalising.
 * Writes into `out` at `offset` (length 92) so graph building allocates nothing per site.
 */
export function writeSiteFeatures(species: readonly SpeciesOccupancy[], out: Float32Array, offset: number): void {
  const table = atomFeatureTable();
  out.fill(0, offset, offset + ATOM_FEATURE_LENGTH);
  for (const { element, occupancy } of species) {
    if (!(occupancy > 0) || occupancy > 1 + 1e-6) {
      throw new BadInputError(`occupancy of ${element} must be in (0, 1], got ${occupancy}`, { element, occupancy });
    }
    const Z = elementBySymbol(element).Z;
    if (Z > MAX_ELEMENT_Z) throw new BadInputError(`no atom features for ${element} (Z = ${Z} > ${MAX_ELEMENT_Z})`, { element });
    const row = (Z - 1) * ATOM_FEATURE_LENGTH;
    for (let c = 0; c < ATOM_FEATURE_LENGTH; c++) out[offset + c]! += occupancy * table[row + c]!;
  }
}
