/**
 * The fixed tables of the screening store (migrations/2026_11_26_1200_create_screening.ts). The
 * snapshot tables `screening_snapshot_<id>` are made at run time and are not typed here: their
 * statements are raw SQL (src/store/screening/snapshot.ts).
 */
import type { ColumnType, Generated } from 'kysely';
import type { EmbeddingDistance } from './model.table.js';
import type { LabelClass } from './material.table.js';

/** bigint columns are read as decimal strings (see database.ts). */
type Bigint = string;
/** pgvector value without a fixed dimension, read and written as its text literal. */
type Vector = ColumnType<string, string, string>;

/** Which snapshot table holds a model's stored sums, and the counts it was written with. */
export interface ScreeningStateTable {
  model_id: Bigint;
  snapshot_id: Bigint;
  /** Kept until the next fold, so a reader that read the pointer just before a swap still finds it. */
  previous_snapshot_id: Bigint | null;
  embedding_dim: number;
  distance: EmbeddingDistance;
  /** The model's distance scale the snapshot sums were built with (null: plain distances). */
  distance_scale: number | null;
  n_fast: number;
  n_poor: number;
  n_candidates: Bigint;
  built_at: Generated<Date>;
  folded_at: Generated<Date>;
}

/** A model's current references: its labelled materials that have an embedding. */
export interface ScreeningReferenceTable {
  model_id: Bigint;
  material_id: Bigint;
  class: LabelClass;
  vec: Vector;
}

/** A reference change not yet folded into the snapshot (null class = a candidate). */
export interface ScreeningEventTable {
  id: Generated<Bigint>;
  model_id: Bigint;
  material_id: Bigint;
  from_class: LabelClass | null;
  to_class: LabelClass | null;
  vec: Vector;
  created_at: Generated<Date>;
}

/** A head: the exact top of the ranking with every event up to `last_event_id` applied. */
export interface ScreeningHeadMetaTable {
  head_id: Generated<Bigint>;
  model_id: Bigint;
  snapshot_id: Bigint;
  last_event_id: Bigint;
  n_fast: number;
  n_poor: number;
  n_rows: number;
  /** True when the head holds every candidate. */
  complete: boolean;
  created_at: Generated<Date>;
}

export interface ScreeningHeadTable {
  head_id: Bigint;
  material_id: Bigint;
  score: number;
  sum_fast: number;
  sum_poor: number;
}
