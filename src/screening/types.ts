/** The records screening returns. */
import type { LabelClass } from '../scoring/index.js';
import type { MaterialRecord } from '../services/materials.js';
import type { StructureFormat } from '../structure/index.js';

export type ReferenceMode = 'ALL' | 'NEAREST';

export interface ReferenceSpec {
  mode: ReferenceMode;
  /** NEAREST only: references of each class averaged over, 1..MAX_NEIGHBOURS. */
  k?: number | null;
}

/** A READY model as screening needs it. */
export interface ScreeningModel {
  id: string;
  dim: number;
  distance: 'EUCLIDEAN' | 'COSINE';
  /** R averages 1 − exp(−d/distanceScale) (src/scoring/score.ts); null: the plain distance. */
  distanceScale: number | null;
  /** Decision threshold on R: the calibrated one, else 1. */
  threshold: number;
}

export interface ScreeningScore {
  /** R = meanDistanceToPoor / meanDistanceToFast; higher = more conductor-like. +Infinity is possible. */
  score: number;
  predictedClass: LabelClass;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
}

export interface ScreeningCandidate extends ScreeningScore {
  materialId: string;
  /** The candidate material, read with the page (absent in NEAREST mode: load it by id). */
  material?: MaterialRecord;
  /** 1-based position in the ranking (with the filter and minScore applied). */
  rank: number;
}

export interface ScreeningPage {
  modelId: string;
  /** The model ranked (nested fields of the page use it without looking it up again). */
  model: ScreeningModel;
  threshold: number;
  reference: Required<ReferenceSpec>;
  items: ScreeningCandidate[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
  /** Candidates matching the filter and minScore, over all pages (computed on demand). */
  totalCount(): Promise<number>;
  /** Unlabelled materials matching the filter that have no embedding under the model (on demand). */
  leftOut(): Promise<number>;
}

/** A score that is not stored: a material's (Material.screening) or an uploaded structure's. */
export interface ScreeningResult extends ScreeningScore {
  modelId: string;
  threshold: number;
  reference: Required<ReferenceSpec>;
  /** The stored material scored, or null for an uploaded structure. */
  materialId: string | null;
  /** The embedding scored (pgvector literal) of an uploaded structure, for its nearestFast; null for a stored material. */
  vector: string | null;
}

export interface Neighbor {
  rank: number;
  distance: number;
  materialId: string;
  /** The neighbour material (without its structure) when the kNN statement read it. */
  material?: MaterialRecord;
}

export interface StructureText {
  format: StructureFormat;
  text: string;
}

export interface StructureLimits {
  maxSites: number;
  maxTextBytes: number;
}

