/**
 * pgvector helpers for the dimensionless `embedding.vec` column.
 *
 * Each model's vectors have one fixed size, so a model gets a *partial expression* HNSW index:
 *   create index embedding_hnsw_m<id> on embedding using hnsw ((vec::vector(<dim>)) <opclass>) with (m = 16, ef_construction = 128)
 *   where model_id = <id>
 * A kNN query uses it only when it orders by the same expression (`vec::vector(<dim>) <-> q`)
 * and filters `model_id = <id>`; vectorDistance() below builds that expression.
 */
import { sql, type RawBuilder } from 'kysely';
import { BadInputError } from '../errors.js';
import { ID_PATTERN } from '../ids.js';
import type { Db } from './database.js';
import type { EmbeddingDistance } from './model.table.js';

/** pgvector's HNSW limit for `vector` (2000 dimensions). */
export const MAX_INDEXED_DIM = 2000;

const OPERATOR_CLASS: Record<EmbeddingDistance, string> = {
  EUCLIDEAN: 'vector_l2_ops',
  COSINE: 'vector_cosine_ops',
};

const DISTANCE_OPERATOR: Record<EmbeddingDistance, string> = {
  EUCLIDEAN: '<->',
  COSINE: '<=>',
};

/** pgvector's operator for a distance (the one its HNSW opclass above indexes). */
export function distanceOperator(distance: EmbeddingDistance): string {
  const op = DISTANCE_OPERATOR[distance];
  if (!op) throw new BadInputError(`unknown distance ${distance}`);
  return op;
}

/** Ids and dims are spliced into SQL (no bind parameters there), so only plain integers pass. */
function checkModelId(modelId: string | number | bigint): string {
  const text = String(modelId);
  if (!ID_PATTERN.test(text)) throw new BadInputError(`invalid model id ${text}`);
  return text;
}

/** A vector dimension that can be spliced into SQL and indexed. */
export function checkDim(dim: number): number {
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_INDEXED_DIM) {
    throw new BadInputError(`embedding dimension must be an integer in [1, ${MAX_INDEXED_DIM}], got ${dim}`);
  }
  return dim;
}

export function modelVectorIndexName(modelId: string | number | bigint): string {
  return `embedding_hnsw_m${checkModelId(modelId)}`;
}

/**
 * HNSW build parameters. m 16 is pgvector's default; ef_construction 128 (default 64) builds a
 * better graph: at 1 M synthetic × vector(32), recall@10 at ef_search 100 went from 0.92 to 0.97
 * (what the 0.95 target needs without doubling ef_search and the query time), for a build of 506 s
 * instead of 316 s on two cores (docs/BENCHMARKS.md).
 */
export const HNSW_BUILD = { m: 16, efConstruction: 128 } as const;

/**
 * Creates the HNSW index of one model (idempotent). Call it once the model's embeddings are
 * written (building after the bulk insert is much faster than maintaining it row by row).
 */
export async function createModelVectorIndex(
  db: Db,
  modelId: string | number | bigint,
  dim: number,
  distance: EmbeddingDistance,
): Promise<void> {
  const id = checkModelId(modelId);
  const opclass = OPERATOR_CLASS[distance];
  if (!opclass) throw new BadInputError(`unknown distance ${distance}`);
  await sql`create index if not exists ${sql.id(modelVectorIndexName(id))} on embedding using hnsw ((vec::vector(${sql.lit(checkDim(dim))})) ${sql.raw(opclass)}) with (m = ${sql.lit(HNSW_BUILD.m)}, ef_construction = ${sql.lit(HNSW_BUILD.efConstruction)}) where model_id = ${sql.lit(Number(id))}`.execute(
    db,
  );
}

export async function dropModelVectorIndex(db: Db, modelId: string | number | bigint): Promise<void> {
  await sql`drop index if exists ${sql.id(modelVectorIndexName(modelId))}`.execute(db);
}

/** '[1,2.5,-3]': pgvector's text form. Non-finite values are rejected (pgvector rejects them too). */
export function toVectorLiteral(values: ArrayLike<number>): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new BadInputError(`vector component ${i} is not finite: ${v}`);
    parts[i] = String(v);
  }
  return `[${parts.join(',')}]`;
}

export function parseVectorLiteral(text: string): Float32Array {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[') || !trimmed.endsWith(']')) throw new BadInputError(`not a vector literal: ${text.slice(0, 40)}`);
  const body = trimmed.slice(1, -1).trim();
  if (body === '') return new Float32Array(0);
  const parts = body.split(',');
  const out = new Float32Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const v = Number(parts[i]);
    if (!Number.isFinite(v)) throw new BadInputError(`not a vector literal: ${text.slice(0, 40)}`);
    out[i] = v;
  }
  return out;
}

/**
 * The distance expression `vec::vector(dim) <op> 'q'::vector(dim)` that matches a model's index.
 * Use it in `orderBy` together with `where('model_id', '=', id)`. Pass `column` to qualify it
 * (e.g. 'e.vec') in a join.
 */
export function vectorDistance(
  dim: number,
  distance: EmbeddingDistance,
  query: ArrayLike<number>,
  column = 'vec',
): RawBuilder<number> {
  const d = checkDim(dim);
  if (query.length !== d) throw new BadInputError(`query vector has ${query.length} components, model has ${d}`);
  return sql<number>`(${sql.ref(column)}::vector(${sql.lit(d)}) ${sql.raw(distanceOperator(distance))} ${toVectorLiteral(query)}::vector(${sql.lit(d)}))`;
}
