/**
 * The one structure model shared by server, trainer and tests.
 *
 * Conventions (pymatgen-compatible):
 * - `lattice` rows are the lattice vectors a, b, c in Å; a Cartesian position is `frac · lattice`.
 * - A site may be disordered: several species with occupancies summing to ≤ 1 (vacancy = 1 − sum).
 * - Fractional coordinates are wrapped into [0, 1).
 */
export type Vec3 = [number, number, number];
export type Mat3 = [Vec3, Vec3, Vec3];

export interface SpeciesOccupancy {
  /** Element symbol, e.g. "Li". */
  element: string;
  /** Fraction of the site held by this element, 0 < occupancy ≤ 1. */
  occupancy: number;
}

export interface Site {
  species: SpeciesOccupancy[];
  frac: Vec3;
  label?: string;
}

export interface Structure {
  lattice: Mat3;
  sites: Site[];
}

export type StructureFormat = 'CIF' | 'POSCAR' | 'JSON';
