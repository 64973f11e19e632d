import type { Generated, Insertable, Selectable } from 'kysely';
import type { LabelClass, Timestamp } from './material.table.js';

/** Append-only label history; a retraction row has class null and `retracts_label_id` set. */
export interface LabelTable {
  id: Generated<string>;
  material_id: string;
  class: LabelClass | null;
  conductivity_s_per_cm: number | null;
  temperature_k: number | null;
  /** A DOI ("doi:10.…") or free text. */
  source: string | null;
  reason: string | null;
  created_by: string | null;
  created_at: Timestamp;
  retracts_label_id: string | null;
}

export type LabelRow = Selectable<LabelTable>;
export type NewLabelRow = Insertable<LabelTable>;
