/**
 * Test/benchmark access to the OBELiX training structures shipped in the repository
 * (data/obelix/structures_p1.jsonl, CC BY 4.0, see data/obelix/SOURCE.md; `sites[].species` is {element: occupancy}).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mat3, Structure, Vec3 } from '../../src/structure/structure.js';

export const OBELIX_JSONL =
  process.env.IONSIEVE_OBELIX_JSONL ?? join(import.meta.dirname, '../../data/obelix/structures_p1.jsonl');

export interface LabelledStructure {
  id: string;
  formula: string;
  /** 1 = FAST ('high', σ_RT ≥ 1e-4 S/cm), 0 = POOR ('low'). */
  label: 0 | 1;
  structure: Structure;
}

interface ObelixRow {
  id: string;
  formula: string;
  label: 'high' | 'low';
  lattice: number[][];
  sites: { frac: number[]; species: Record<string, number> }[];
}

export function obelixRowToStructure(row: Pick<ObelixRow, 'lattice' | 'sites'>): Structure {
  return {
    lattice: row.lattice.map((r) => [r[0]!, r[1]!, r[2]!]) as Mat3,
    sites: row.sites.map((s) => ({
      frac: [s.frac[0]!, s.frac[1]!, s.frac[2]!] as Vec3,
      species: Object.entries(s.species).map(([element, occupancy]) => ({ element, occupancy })),
    })),
  };
}

let cache: LabelledStructure[] | undefined;

/** All labelled OBELiX structures in file order. */
export function loadObelix(): LabelledStructure[] {
  if (cache) return cache;
  cache = readFileSync(OBELIX_JSONL, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as ObelixRow;
      return { id: row.id, formula: row.formula, label: row.label === 'high' ? 1 : 0, structure: obelixRowToStructure(row) };
    });
  return cache;
}
