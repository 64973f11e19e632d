import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { DistanceMetric } from '../domain.js';
import type { Json, Timestamp } from './material.table.js';

export type ModelStatus = 'QUEUED' | 'TRAINING' | 'READY' | 'FAILED' | 'CANCELLED';
/** The model's embedding distance (src/domain.ts DistanceMetric). */
export type EmbeddingDistance = DistanceMetric;

export interface ModelTable {
  id: Generated<string>;
  name: string;
  status: Generated<ModelStatus>;
  /** At most one model is active (partial unique index). */
  is_active: Generated<boolean>;
  hyperparameters: Json<Record<string, unknown>>;
  backend: string | null;
  embedding_dim: number | null;
  distance: Generated<EmbeddingDistance>;
  threshold: number | null;
  /** The distance ratio averages 1 − exp(−d/distance_scale) (src/scoring/score.ts); null: plain d. */
  distance_scale: number | null;
  progress: Json<Record<string, unknown>> | null;
  training_curve: Json<unknown[]> | null;
  metrics: Json<Record<string, unknown>> | null;
  label_counts: Json<Record<string, number>> | null;
  /** Ids of the labels used for training. */
  label_snapshot: Json<string[]> | null;
  /** The saved model artifact. */
  weights: Json<unknown> | null;
  error: string | null;
  created_by: string | null;
  created_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export type ModelRow = Selectable<ModelTable>;
export type NewModelRow = Insertable<ModelTable>;
export type ModelUpdate = Updateable<ModelTable>;
