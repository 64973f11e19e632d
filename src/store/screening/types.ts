/** Types shared by the screening store's operations. */
import type { LabelClass } from '../material.table.js';
import type { MaterialRowFilter, MaterialSummaryRow } from '../material.repository.js';
import type { EmbeddingDistance } from '../model.table.js';

export interface SnapshotSpec {
  snapshotId: string;
  dim: number;
  distance: EmbeddingDistance;
  /** The model's distance scale: the sums add bounded distances (src/scoring/score.ts); null: plain ones. */
  distanceScale: number | null;
}

/** A reference change relative to a snapshot, net over the pending events of one material. */
export interface NetChange {
  materialId: string;
  /** Status in the snapshot (null: candidate). */
  fromClass: LabelClass | null;
  /** Status now (null: candidate). */
  toClass: LabelClass | null;
  vec: string;
}



/** Filter on the candidate's material row (alias `m`), already validated: material columns only. */
export type CandidateFilter = Omit<MaterialRowFilter, 'currentLabelClass' | 'kind'>;

export interface RankedRow {
  material_id: string;
  score: number;
  sum_fast: number;
  sum_poor: number;
  /** The candidate's `material` row, when the page was asked for it. */
  material?: MaterialSummaryRow;
}

export interface PageQuery {
  filter: CandidateFilter;
  /** Keyset position: rows strictly after (score, materialId) in (score desc, id desc) order. */
  after: { score: number; materialId: string } | null;
  minScore: number | null;
  limit: number;
  /** Also return each candidate's material row (saves the caller a round trip). */
  withMaterials?: boolean;
}


export interface ModelVectorSpec {
  modelId: string;
  dim: number;
  distance: EmbeddingDistance;
  /** As SnapshotSpec's: what NEAREST means average (kNN order is the plain distance's either way). */
  distanceScale: number | null;
}

/** A query: a stored material's embedding (by id) or an explicit vector (a pgvector literal). */
export type VectorQuery = { materialId: string } | { vec: string };

export interface NeighbourRow {
  material_id: string;
  distance: number;
  /** The neighbour's material row (without structure), when asked for. */
  material?: MaterialSummaryRow;
}
