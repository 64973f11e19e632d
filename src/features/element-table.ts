/**
 * The committed element property table (data/elements/elements.json, Z = 1..100), generated once by
 * scripts/make-element-table.py from pymatgen's periodic_table.json (MIT) plus Cordero 2008
 * covalent radii; see data/elements/SOURCE.md. Missing values are `null` in the file and `NaN` here.
 */
import { createHash } from 'node:crypto';
import elementsDocument from '../../data/elements/elements.json' with { type: 'json' };
import { BadInputError } from '../errors.js';
import { elementBySymbol } from '../structure/elements.js';

export type ElementBlock = 's' | 'p' | 'd' | 'f';

export interface ElementProperties {
  Z: number;
  symbol: string;
  /** IUPAC group 1..18; 0 for the f-block rows La–Yb and Ac–No (CGCNN convention). */
  group: number;
  period: number;
  block: ElementBlock;
  /** CGCNN's valence count: s/d block = group, p block = group − 10, f block = 2. */
  valenceElectrons: number;
  electronegativityPauling: number;
  covalentRadiusPm: number;
  firstIonizationEnergyEv: number;
  electronAffinityEv: number;
  molarVolumeCm3PerMol: number;
  atomicMassU: number;
  mendeleevNumber: number;
}

/** Highest atomic number the table covers (knagcn.md §2.2: Z > 100 is an error). */
export const MAX_ELEMENT_Z = 100;

interface RawRow {
  [key: string]: string | number | null;
}

let cachedRows: readonly ElementProperties[] | undefined;
let cachedHash: string | undefined;

function rows(): readonly ElementProperties[] {
  if (cachedRows) return cachedRows;
  const raw = (elementsDocument as unknown as { elements: RawRow[] }).elements;
  const num = (v: string | number | null | undefined): number => (typeof v === 'number' ? v : NaN);
  cachedRows = Object.freeze(
    raw.map((r) =>
      Object.freeze({
        Z: num(r.Z),
        symbol: String(r.symbol),
        group: num(r.group),
        period: num(r.period),
        block: String(r.block) as ElementBlock,
        valenceElectrons: num(r.valenceElectrons),
        electronegativityPauling: num(r.electronegativityPauling),
        covalentRadiusPm: num(r.covalentRadiusPm),
        firstIonizationEnergyEv: num(r.firstIonizationEnergyEv),
        electronAffinityEv: num(r.electronAffinityEv),
        molarVolumeCm3PerMol: num(r.molarVolumeCm3PerMol),
        atomicMassU: num(r.atomicMassU),
        mendeleevNumber: num(r.mendeleevNumber),
      }),
    ),
  );
  return cachedRows;
}

/** Properties of element Z (1..100); BadInputError beyond the table. */
export function elementPropertiesByZ(Z: number): ElementProperties {
  const row = Number.isInteger(Z) && Z >= 1 && Z <= MAX_ELEMENT_Z ? rows()[Z - 1] : undefined;
  if (!row) throw new BadInputError(`no element features for atomic number ${Z} (table covers 1..${MAX_ELEMENT_Z})`, { Z });
  return row;
}

/** Properties of the element with this symbol ("Li"); BadInputError for unknown or Z > 100. */
export function elementProperties(symbol: string): ElementProperties {
  return elementPropertiesByZ(elementBySymbol(symbol).Z);
}

/**
 * SHA-256 (hex) of the table content. Stored in model artifacts: a model trained on one table must
 * not silently serve with another.
 */
export function elementTableHash(): string {
  if (!cachedHash) {
    cachedHash = createHash('sha256').update(JSON.stringify(rows())).digest('hex');
  }
  return cachedHash;
}
