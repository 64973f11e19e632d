/**
 * The labelled set for evaluation, read straight from the data files (no database):
 * `<dir>/manifest.csv` (478 OBELiX train-split rows) and `<dir>/cifs/<id>.cif` (254 CIFs), or
 * `<dir>/structures_p1.jsonl` (the pymatgen P1 expansion of the same CIFs) as an alternative
 * structure source. The OBELiX `test` split is not in these files and must stay out of here.
 *
 * Label rule (from the data's SOURCE.md): high (σ_RT ≥ 1e-4 S/cm) → FAST = 1, low → POOR = 0.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCsv } from '../csv.js';
import { BadInputError } from '../errors.js';
import { parseComposition, parseStructure, type Amounts, type Structure } from '../structure/index.js';
import type { BinaryLabel } from './metrics.js';
import { compositionKey, type GroupedRow } from './splits.js';

export interface LabelledEntry {
  id: string;
  /** Reported formula, e.g. "Li6.4La3Zr1.4Ta0.6O12". */
  formula: string;
  /** Amounts of the reported formula. */
  amounts: Amounts;
  label: BinaryLabel;
  conductivitySPerCm: number | null;
  /** Structural family as written in the manifest (may be empty → null). */
  family: string | null;
  /** Reduced formula of the CIF when it differs from the reported composition, else null. */
  cifFormula: string | null;
  /** The manifest lists a CIF for this row (254 of 478), whether or not it was loaded. */
  hasStructure: boolean;
  /** Null for the composition-only rows (224 of 478), and for every row when loaded without structures. */
  structure: Structure | null;
}

export type StructureSource = 'CIF' | 'P1_JSONL' | 'NONE';

export interface LoadOptions {
  /** Where structures come from: parse the CIFs (default), read the P1 JSONL, or skip them. */
  structureSource?: StructureSource;
}

export async function loadObelixDataset(dataDir: string, options: LoadOptions = {}): Promise<LabelledEntry[]> {
  const source = options.structureSource ?? 'CIF';
  const rows = parseCsv(await readFile(join(dataDir, 'manifest.csv'), 'utf8'));
  if (rows.length === 0) throw new BadInputError('manifest.csv has no rows');
  const p1 = source === 'P1_JSONL' ? await readP1Structures(join(dataDir, 'structures_p1.jsonl')) : null;
  const entries: LabelledEntry[] = [];
  for (const row of rows) {
    const id = required(row, 'id');
    const label = required(row, 'label');
    if (label !== 'high' && label !== 'low') throw new BadInputError(`manifest row ${id}: label "${label}" is neither high nor low`);
    const amounts = parseComposition(required(row, 'formula')).amounts;
    const cifFormulaText = row['cif_formula_reduced']?.trim() ?? '';
    const cifFormula =
      cifFormulaText !== '' && compositionKey(parseComposition(cifFormulaText).amounts) !== compositionKey(amounts) ? cifFormulaText : null;
    let structure: Structure | null = null;
    if (row['has_structure'] === 'True' && source !== 'NONE') {
      if (p1 !== null) {
        structure = p1.get(id) ?? null;
        if (structure === null) throw new BadInputError(`manifest row ${id} has a structure but structures_p1.jsonl lacks it`);
      } else {
        structure = parseStructure('CIF', await readFile(join(dataDir, required(row, 'cif_path')), 'utf8'));
      }
    }
    const sigma = Number(row['sigma_rt_S_per_cm']);
    entries.push({
      id,
      formula: required(row, 'formula'),
      amounts,
      label: label === 'high' ? 1 : 0,
      conductivitySPerCm: Number.isFinite(sigma) ? sigma : null,
      family: (row['family'] ?? '').trim() || null,
      cifFormula,
      hasStructure: row['has_structure'] === 'True',
      structure,
    });
  }
  return entries;
}

/**
 * Rows for groupedKFold: keys are the reported composition and, if different, the CIF's
 * composition; folds are balanced on rows with and without a structure.
 */
export function groupedRowsOf(entries: readonly LabelledEntry[]): GroupedRow[] {
  return entries.map((e) => ({
    formulaKeys: e.cifFormula === null ? [compositionKey(e.amounts)] : [compositionKey(e.amounts), compositionKey(parseComposition(e.cifFormula).amounts)],
    family: e.family,
    label: e.label,
    balanceKey: e.hasStructure ? 'structure' : 'composition',
  }));
}

async function readP1Structures(path: string): Promise<Map<string, Structure>> {
  const out = new Map<string, Structure>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as { id: string; lattice: Structure['lattice']; sites: { frac: [number, number, number]; species: Record<string, number> }[] };
    out.set(record.id, {
      lattice: record.lattice,
      sites: record.sites.map((s) => ({
        frac: s.frac.map((x) => x - Math.floor(x)) as [number, number, number],
        species: Object.entries(s.species).map(([element, occupancy]) => ({ element, occupancy })),
      })),
    });
  }
  return out;
}


function required(row: Record<string, string>, column: string): string {
  const value = row[column]?.trim();
  if (!value) throw new BadInputError(`manifest row ${row['id'] ?? '?'}: column "${column}" is empty`);
  return value;
}
