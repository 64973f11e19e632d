/** The model a screening request uses, with its screening view, read in one round trip (or shared). */
import { ModelNotReadyError, NotFoundError } from '../errors.js';
import { DEFAULT_THRESHOLD } from '../scoring/index.js';
import { checkModelId } from '../ids.js';
import type { Db } from '../store/database.js';
import { screeningTags, similarityTags } from '../store/change-feed.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import {
  readModelAndView,
  type ModelVectorSpec,
  type ScreeningModelRow,
  type ScreeningStateRow,
  type ScreeningView,
  type SnapshotSpec,
} from '../store/screening/index.js';
import type { ScreeningModel } from './types.js';

export function toScreeningModel(row: ScreeningModelRow): ScreeningModel {
  if (row.status !== 'READY') throw new ModelNotReadyError(row.id, row.status);
  if (!row.embedding_dim) throw new ModelNotReadyError(row.id, 'without an embedding dimension');
  return { id: row.id, dim: row.embedding_dim, distance: row.distance, distanceScale: row.distance_scale, threshold: row.threshold ?? DEFAULT_THRESHOLD };
}

/** A checked model id, or null for the active model. */
function modelIdOrActive(modelId: string | null | undefined): string | null {
  return modelId === undefined || modelId === null ? null : checkModelId(modelId);
}

/**
 * The model named (or the active one) with its screening view, in one round trip — or none, when a
 * shared read since the last change to the model's screening tables has it.
 */
export async function loadScreening(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; view: ScreeningView | null }> {
  const id = modelIdOrActive(modelId);
  const found = await reads.read(
    `screening:${id ?? 'active'}`,
    () => readModelAndView(db, id),
    // Activating another model updates this one's row too (is_active); no model found: any model row.
    (f) => (f.model ? screeningTags(f.model.id) : ['model']),
  );
  if (!found.model) throw id === null ? new NotFoundError('active model', 'none') : new NotFoundError('model', id);
  return { model: toScreeningModel(found.model), view: found.view };
}

/** The model named, or the active one; it must be READY. */
export async function resolveScreeningModel(db: Db, modelId: string | null | undefined): Promise<ScreeningModel> {
  return (await loadScreening(db, modelId)).model;
}

/**
 * What similarity searches need of a model: the model and how many materials it embedded (null
 * before its screening state exists). Shared apart from the view: a label changes the view, not this.
 */
export async function loadSimilarity(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; embedded: number | null }> {
  const id = modelIdOrActive(modelId);
  return reads.read(
    `similarity:${id ?? 'active'}`,
    async () => {
      const { model, view } = await loadScreening(db, id);
      // The snapshot holds one row per embedded material; a label moves rows between classes, a fold keeps them.
      return { model, embedded: view ? view.state.n_candidates + view.state.n_fast + view.state.n_poor : null };
    },
    (value) => [...similarityTags(value.model.id), `screening_state:${value.model.id}`],
  );
}

export function vectorSpec(model: ScreeningModel): ModelVectorSpec {
  return { modelId: model.id, dim: model.dim, distance: model.distance, distanceScale: model.distanceScale };
}

export function snapshotSpec(state: ScreeningStateRow): SnapshotSpec {
  return { snapshotId: state.snapshot_id, dim: state.embedding_dim, distance: state.distance, distanceScale: state.distance_scale };
}

