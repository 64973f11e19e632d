import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { LabelClass } from '../domain.js';
import type { Structure } from '../structure/structure.js';

/** jsonb columns are written as JSON text (node-postgres would turn a JS array into a SQL array). */
export type Json<T> = ColumnType<T, string, string>;
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** Another name under which the same structure was given (a pool's own id, a later upload). */
export interface MaterialAlias {
  name: string | null;
  source: string | null;
  sourceId: string | null;
  createdBy: string | null;
  /** ISO time. */
  createdAt: string;
}

/** A numeric property of a material (band gap, energy above hull, …). */
export interface MaterialProperty {
  value: number;
  unit: string | null;
  source: string | null;
  /** Who set it (API token, importer or 'seed'). */
  setBy: string | null;
  /** ISO time. */
  setAt: string;
}

export type MaterialKind = 'STRUCTURE' | 'COMPOSITION';
export type { LabelClass } from '../domain.js';

export interface MaterialTable {
  /** bigserial, read as a decimal string on both dialects (see database.ts). */
  id: Generated<string>;
  name: string | null;
  source: string | null;
  source_id: string | null;
  /** Link to the record at its provider, when it has one. */
  source_url: string | null;
  /** Other names of this structure (MaterialAlias[] JSON); '[]' by default. */
  aliases: ColumnType<MaterialAlias[], string | undefined, string>;
  family: string | null;
  kind: MaterialKind;
  formula: string;
  reduced_formula: string;
  /** Sorted element symbols. */
  elements: string[];
  nelements: number;
  nsites: number | null;
  /** Occupancy-weighted atoms in the cell (or in the formula as written, for a composition). */
  natoms: number;
  volume_a3: number | null;
  density_g_per_cm3: number | null;
  is_ordered: boolean | null;
  /** Canonical Structure JSON (src/structure/structure.ts). */
  structure: Json<Structure> | null;
  structure_hash: string | null;
  /** Cache of the derived current label; written with every label write. */
  current_label_class: LabelClass | null;
  /** Numeric properties by name (MaterialProperty JSON); '{}' by default. */
  properties: ColumnType<Record<string, MaterialProperty>, string | undefined, string>;
  space_group_number: number | null;
  space_group_symbol: string | null;
  /** Version of the facts derived from the structure or formula (src/services/derived.ts). */
  derived_version: ColumnType<number, number | undefined, number>;
  /** Some assignment of ICSD oxidation states balances charge; null = not assessed. */
  charge_balanced: boolean | null;
  /** Average oxidation state per element of the best balancing assignment (JSON); null when none. */
  oxidation_states: ColumnType<Record<string, number> | null, string | null | undefined, string | null>;
  has_anion: boolean | null;
  has_reducible_tm: boolean | null;
  /** Set while a curator has retired it (hidden from rankings); cleared on restore. */
  retired_at: Timestamp | null;
  retired_by: string | null;
  retired_reason: string | null;
  created_by: string | null;
  created_at: Timestamp;
}

export type MaterialRow = Selectable<MaterialTable>;
export type NewMaterialRow = Insertable<MaterialTable>;
