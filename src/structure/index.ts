/**
 * Public API of the structure module (the contract other modules code against).
 * Implementations live beside this file, one concept per file.
 */
export * from './structure.js';

export interface ParseOptions {
  /** Reject structures with more sites than this (after symmetry expansion). Default 2000. */
  maxSites?: number;
  /** Reject text longer than this many bytes. Default 5 MiB. */
  maxTextBytes?: number;
}

export interface LatticeParameters { a: number; b: number; c: number; alpha: number; beta: number; gamma: number }

/** Facts derived from a structure; all that the store keeps in columns. */
export interface StructureFacts {
  /** Occupancy-weighted formula of the cell, e.g. "Li6.4 La3 Zr1.4 Ta0.6 O12" → written "Li6.4La3Zr1.4Ta0.6O12" (elements in electronegativity order like pymatgen). */
  formula: string;
  /** Formula divided by the greatest common factor (pymatgen-like reduced formula). */
  reducedFormula: string;
  /** Sorted element symbols. */
  elements: string[];
  nelements: number;
  /** Number of sites in the cell (a disordered site counts once). */
  nsites: number;
  /** Occupancy-weighted number of atoms in the cell. */
  natoms: number;
  /** Cell volume in Å³. */
  volumeA3: number;
  /** Density in g/cm³. */
  densityGPerCm3: number;
  isOrdered: boolean;
  lattice: LatticeParameters;
  /** Canonical hash: equal for the same structure given with sites reordered, wrapped differently, or as CIF vs POSCAR vs JSON. */
  hash: string;
}

export interface CompositionFacts {
  formula: string;
  reducedFormula: string;
  elements: string[];
  nelements: number;
  /** Atoms in the formula as written. */
  natoms: number;
  /** element → amount, as written. */
  amounts: Record<string, number>;
}

// parseStructure(format, text, opts?): Structure
export { parseStructure, DEFAULT_MAX_TEXT_BYTES } from './parse.js';
// describeStructure(s): StructureFacts; cartesianPositions(s): Float64Array [nsites*3] Å
export { describeStructure, cartesianPositions, structureHash, cellAmounts, isOrdered } from './facts.js';
// parseComposition(text): CompositionFacts
export { parseComposition, compositionFacts, formulaString, reducedFormulaString, formatAmount } from './composition.js';
export type { Amounts } from './composition.js';
export { structureToCif } from './cif-writer.js';
export { cifStructureBlocks } from './cif.js';
export { structureToPoscar } from './poscar-writer.js';
export { optimadeProviderPrefix, readOptimadeEntry, readOptimadeList, structureToJson } from './optimade-json.js';
export type { OptimadeListEntry } from './optimade-json.js';
export type { OptimadeStructureAttributes } from './optimade-json.js';
export {
  latticeParameters,
  latticeVolume,
  latticeDeterminant,
  latticeFromParameters,
  invertMat3,
  fracToCart,
  cartToFrac,
  wrapFrac,
  wrapVec3,
} from './lattice.js';
export {
  ELEMENTS,
  elementBySymbol,
  elementByNumber,
  findElement,
  elementFromLabel,
  compareByElectronegativity,
} from './elements.js';
export type { ElementData } from './elements.js';
export { mergeCoLocatedSites, SITE_TOLERANCE_FRAC } from './merge-sites.js';
export { validateStructure, isStorableText, DEFAULT_MAX_SITES, OCCUPANCY_TOLERANCE, MIN_CELL_VOLUME_A3, MIN_OCCUPANCY } from './validate.js';
export {
  parseSymmetryOperation,
  operationsFromSpaceGroupNumber,
  operationsFromHmSymbol,
  applyOperation,
  spaceGroupOf,
  SPACE_GROUP_SYMPREC,
} from './symmetry-ops.js';
export type { SymmetryOperation, SpaceGroup } from './symmetry-ops.js';
