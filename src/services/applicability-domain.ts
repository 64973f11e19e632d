/**
 * Whether a query lies outside the data a model learned from (its applicability domain). The
 * domain radius of a model is the 95th percentile, over its labelled references, of each
 * reference's distance to its nearest other reference; a query (a stored material, an uploaded
 * structure, a formula) whose nearest reference is farther than that is out of domain: its score
 * and neighbours extrapolate. The radius follows the current labels (a shared read tagged by the
 * model's screening tables).
 */
import { sql } from 'kysely';
import { pairwiseDistances } from '../scoring/score.js';
import type { Db } from '../store/database.js';
import { screeningTags } from '../store/change-feed.js';
import { nearestReferences, type VectorQuery } from '../store/screening/index.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import { parseVectorLiteral } from '../store/vector.js';

/** Percentile of the references' nearest-reference distances that bounds the domain. */
export const DOMAIN_PERCENTILE = 0.95;

export interface DomainModel {
  id: string;
  dim: number;
  distance: 'EUCLIDEAN' | 'COSINE';
}

export interface DomainCheck {
  /** Distance from the query to its nearest labelled reference (itself excluded); null without references. */
  nearestReferenceDistance: number | null;
  /** The model's domain radius; null with fewer than two references. */
  domainRadius: number | null;
  outOfDomain: boolean;
}

/** The q-quantile (linear interpolation) of ascending `sorted`. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

/** The domain radius of a set of reference embeddings (see the module comment); null below two. */
export function domainRadiusOf(vectors: readonly Float32Array[], distance: 'EUCLIDEAN' | 'COSINE'): number | null {
  const n = vectors.length;
  if (n < 2) return null;
  const matrix = pairwiseDistances(vectors, distance);
  const nearest: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) if (j !== i && matrix[i * n + j]! < best) best = matrix[i * n + j]!;
    nearest.push(best);
  }
  return quantile(nearest.sort((a, b) => a - b), DOMAIN_PERCENTILE);
}

/** The model's current domain radius, from its screening references. */
export async function domainRadius(db: Db, model: DomainModel, reads: SharedReads = DIRECT_READS): Promise<number | null> {
  return reads.read(
    `domainRadius:${model.id}`,
    async () => {
      const { rows } = await sql<{ vec: string }>`select vec::text as vec from screening_reference where model_id = ${model.id}::bigint`.execute(db);
      return domainRadiusOf(rows.map((r) => parseVectorLiteral(r.vec)), model.distance);
    },
    () => screeningTags(model.id),
  );
}

/** The domain check of a query (a stored material or a vector). */
export async function checkDomain(db: Db, model: DomainModel, query: VectorQuery, reads: SharedReads = DIRECT_READS): Promise<DomainCheck> {
  // Plain distances: the domain radius is measured in the embedding's own units.
  const spec = { modelId: model.id, dim: model.dim, distance: model.distance, distanceScale: null };
  const exclude = 'materialId' in query ? query.materialId : null;
  const [fast, poor, radius] = await Promise.all([
    nearestReferences(db, spec, query, 'FAST', 1, exclude),
    nearestReferences(db, spec, query, 'POOR', 1, exclude),
    domainRadius(db, model, reads),
  ]);
  const distances = [...fast, ...poor].map((r) => r.distance);
  const nearest = distances.length > 0 ? Math.min(...distances) : null;
  return { nearestReferenceDistance: nearest, domainRadius: radius, outOfDomain: nearest !== null && radius !== null && nearest > radius };
}
