/** Types of the structure module's contract (re-exported by index.ts; files beside it import them from here). */

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
