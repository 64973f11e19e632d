/** Neighbours: the nearest FAST references of materials, and similar materials of a material or structure. */
import { BadInputError, NotFoundError, ScreeningNotReadyError } from '../errors.js';
import type { LabelClass } from '../scoring/index.js';
import { getMaterial, materialRowToRecord, type MaterialFilter, type MaterialRecord } from '../services/materials.js';
import type { Db } from '../store/database.js';
import { fastReferenceTags } from '../store/change-feed.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import {
  embeddingOf,
  nearestEmbeddings,
  nearestReferences,
  nearestReferencesOfMaterials,
  type CandidateFilter,
  type VectorQuery,
} from '../store/screening/index.js';
import { ID_PATTERN } from '../ids.js';
import { checkK, checkMaterialId, toCandidateFilter } from './inputs.js';
import { DEFAULT_EF_SEARCH, DEFAULT_NEIGHBOURS, EXACT_NEIGHBOURS_MAX_ROWS } from './limits.js';
import { loadSimilarity, resolveScreeningModel, vectorSpec } from './model.js';
import { openScreening } from './open.js';
import { embedStructureText } from './scores.js';
import type { Neighbor, ScreeningModel, StructureLimits, StructureText } from './types.js';

export async function nearestFastOfMaterials(
  db: Db,
  modelId: string | null | undefined,
  materialIds: readonly string[],
  k: number,
  reads: SharedReads = DIRECT_READS,
): Promise<Neighbor[][]> {
  checkK(k, 'k');
  const { model } = await openScreening(db, modelId, reads);
  return nearestFastForModel(db, model, materialIds, k, reads);
}

/**
 * nearestFastOfMaterials for a model already resolved (a screen page's): no model lookup. Each
 * material's list is a shared read: it stays while the model's references and the neighbours'
 * rows are unchanged (a node appears on many pages and rankings).
 */
export async function nearestFastForModel(
  db: Db,
  model: ScreeningModel,
  materialIds: readonly string[],
  k: number,
  reads: SharedReads = DIRECT_READS,
): Promise<Neighbor[][]> {
  checkK(k, 'k');
  return reads.readMany(
    materialIds.map((id) => `nearestFast:${model.id}:${k}:${id}`),
    (missing) => loadNearestFast(db, model, missing.map((i) => materialIds[i]!), k),
    (neighbours) => [...fastReferenceTags(model.id), ...neighbours.map((n) => `material:${n.materialId}`)],
  );
}

async function loadNearestFast(db: Db, model: ScreeningModel, materialIds: readonly string[], k: number): Promise<Neighbor[][]> {
  const ids = [...new Set(materialIds.filter((id) => ID_PATTERN.test(id)))];
  const byQuery = new Map<string, Neighbor[]>();
  const rows = await nearestReferencesOfMaterials(db, vectorSpec(model), ids, 'FAST', k, { withMaterials: true });
  // A reference is near many candidates: its row comes once, on one of its neighbour rows.
  const materials = new Map<string, MaterialRecord>();
  for (const row of rows) if (row.material) materials.set(row.material_id, materialRowToRecord(row.material));
  for (const row of rows) {
    const list = byQuery.get(row.query_id) ?? [];
    const material = materials.get(row.material_id);
    list.push({ rank: list.length + 1, distance: row.distance, materialId: row.material_id, ...(material ? { material } : {}) });
    byQuery.set(row.query_id, list);
  }
  return materialIds.map((id) => byQuery.get(id) ?? []);
}

/** The k nearest FAST references of an explicit vector (an uploaded structure's embedding). */
export async function nearestFastOfVector(db: Db, modelId: string, vector: string, k: number): Promise<Neighbor[]> {
  checkK(k, 'k');
  const model = await resolveScreeningModel(db, modelId);
  const rows = await nearestReferences(db, vectorSpec(model), { vec: vector }, 'FAST', k, null);
  return rows.map((r, i) => ({ rank: i + 1, distance: r.distance, materialId: r.material_id }));
}


export type NeighbourLabel = LabelClass | 'UNLABELLED';

export interface SimilarMaterialsInput {
  materialId?: string | null;
  structure?: StructureText | null;
  k?: number | null;
  label?: NeighbourLabel | null;
  modelId?: string | null;
  /** Conditions on the neighbours (as `materials`' filter; the label goes in `label`). */
  filter?: MaterialFilter | null;
}

/**
 * The k materials nearest to a stored material (itself excluded) or to an uploaded structure
 * (embedded on the fly), optionally only those with a label class or unlabelled. FAST/POOR
 * neighbours are exact (kNN over the model's references); the others use the model's HNSW index.
 */
export async function similarMaterials(
  db: Db,
  input: SimilarMaterialsInput,
  limits: StructureLimits,
  opts: { exactBelow?: number; onModel?: (modelId: string) => void; reads?: SharedReads } = {},
): Promise<Neighbor[]> {
  const hasMaterial = input.materialId !== undefined && input.materialId !== null;
  const hasStructure = input.structure !== undefined && input.structure !== null;
  if (hasMaterial === hasStructure) throw new BadInputError('give exactly one of materialId or structure', { field: 'input' });
  const k = checkK(input.k ?? DEFAULT_NEIGHBOURS, 'k');
  const label = input.label ?? null;
  if (label !== null && label !== 'FAST' && label !== 'POOR' && label !== 'UNLABELLED') {
    throw new BadInputError(`unknown label ${String(label)}`, { field: 'label' });
  }
  if (input.filter?.label !== undefined && input.filter?.label !== null) {
    throw new BadInputError('similarMaterials filters labels with input.label, not input.filter.label', { field: 'filter.label' });
  }
  const filter = toCandidateFilter(input.filter);
  const { model, embedded } = await loadSimilarity(db, input.modelId, opts.reads);
  opts.onModel?.(model.id);
  if (hasMaterial) {
    const materialId = checkMaterialId(input.materialId);
    const neighbours = await neighboursOf(db, model, embedded, { materialId }, k, label, materialId, opts.exactBelow, filter);
    if (neighbours.length === 0 && (await embeddingOf(db, model.id, materialId)) === null) {
      await getMaterial(db, materialId); // NOT_FOUND for a material that does not exist
      throw new NotFoundError(`embedding of material ${materialId} under model`, model.id);
    }
    return neighbours;
  }
  const vec = await embedStructureText(db, model, input.structure!, limits);
  return neighboursOf(db, model, embedded, { vec }, k, label, null, opts.exactBelow, filter);
}

/** Neighbours of a query; the stored material's vector is read inside the kNN statement. */
async function neighboursOf(
  db: Db,
  model: ScreeningModel,
  embedded: number | null,
  query: VectorQuery,
  k: number,
  label: NeighbourLabel | null,
  excludeId: string | null,
  exactBelow: number = EXACT_NEIGHBOURS_MAX_ROWS,
  filter: CandidateFilter = {},
): Promise<Neighbor[]> {
  let rows;
  if (label === 'FAST' || label === 'POOR') {
    // Labelled neighbours are read from the model's references, written with its screening scores.
    if (embedded === null) throw new ScreeningNotReadyError(model.id);
    rows = await nearestReferences(db, vectorSpec(model), query, label, k, excludeId, filter);
  } else {
    const opts = {
      excludeId,
      filter,
      onlyUnlabelled: label === 'UNLABELLED',
      efSearch: Math.max(DEFAULT_EF_SEARCH, k + 1),
      withMaterials: true,
    };
    rows =
      embedded !== null && embedded <= exactBelow
        ? await nearestEmbeddings(db, vectorSpec(model), query, k, { ...opts, exact: true })
        : await nearestEmbeddings(db, vectorSpec(model), query, k, opts);
  }
  return rows.map((r, i) => ({
    rank: i + 1,
    distance: r.distance,
    materialId: r.material_id,
    ...(r.material ? { material: materialRowToRecord(r.material) } : {}),
  }));
}

/**
 * Neighbours of a stored material (Material.similar), itself excluded; [] when it has no embedding
 * under the model (a composition-only material).
 */
export async function similarToMaterial(
  db: Db,
  materialId: string,
  opts: {
    k?: number | null;
    label?: NeighbourLabel | null;
    modelId?: string | null;
    onModel?: (modelId: string) => void;
    reads?: SharedReads;
  },
): Promise<Neighbor[]> {
  const k = checkK(opts.k ?? DEFAULT_NEIGHBOURS, 'k');
  const { model, embedded } = await loadSimilarity(db, opts.modelId, opts.reads);
  opts.onModel?.(model.id);
  const id = checkMaterialId(materialId);
  // No embedding: the kNN statement finds no query vector and returns no rows.
  return neighboursOf(db, model, embedded, { materialId: id }, k, opts.label ?? null, id);
}

