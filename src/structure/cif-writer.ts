/**
 * Structure → P1 CIF 1.1 text with `_atom_site_occupancy`. A disordered site is written as one
 * row per species at the same position; parseStructure('CIF', …) merges them back.
 */
import { latticeParameters, latticeVolume } from './lattice.js';
import type { Structure } from './structure.js';
import { formulaString } from './composition.js';
import { cellAmounts } from './facts.js';

/** Digits written for coordinates, cell parameters and occupancies (1e-8 ≈ 1e-7 Å: far below the hash steps). */
const DECIMALS = 8;

/** A data-block name: CIF forbids whitespace there. */
function blockName(name: string): string {
  const clean = name.replace(/\s+/g, '_');
  return clean.length > 0 ? clean : 'structure';
}

export function structureToCif(s: Structure, dataName?: string): string {
  const p = latticeParameters(s.lattice);
  const formula = formulaString(cellAmounts(s));
  const lines = [
    '# written by ionsieve (P1 cell)',
    `data_${blockName(dataName ?? formula)}`,
    "_symmetry_space_group_name_H-M   'P 1'",
    '_symmetry_Int_Tables_number   1',
    `_cell_length_a   ${p.a.toFixed(DECIMALS)}`,
    `_cell_length_b   ${p.b.toFixed(DECIMALS)}`,
    `_cell_length_c   ${p.c.toFixed(DECIMALS)}`,
    `_cell_angle_alpha   ${p.alpha.toFixed(DECIMALS)}`,
    `_cell_angle_beta   ${p.beta.toFixed(DECIMALS)}`,
    `_cell_angle_gamma   ${p.gamma.toFixed(DECIMALS)}`,
    `_cell_volume   ${latticeVolume(s.lattice).toFixed(DECIMALS)}`,
    `_chemical_formula_sum   '${formula}'`,
    'loop_',
    ' _symmetry_equiv_pos_site_id',
    ' _symmetry_equiv_pos_as_xyz',
    "  1  'x, y, z'",
    'loop_',
    ' _atom_site_type_symbol',
    ' _atom_site_label',
    ' _atom_site_fract_x',
    ' _atom_site_fract_y',
    ' _atom_site_fract_z',
    ' _atom_site_occupancy',
  ];
  let n = 0;
  for (const site of s.sites) {
    const xyz = site.frac.map((x) => x.toFixed(DECIMALS)).join('  ');
    for (const sp of site.species) {
      lines.push(`  ${sp.element}  ${sp.element}${n++}  ${xyz}  ${+sp.occupancy.toFixed(DECIMALS)}`);
    }
  }
  return lines.join('\n') + '\n';
}
