/** Nearest neighbours under a model: exact kNN over the references, HNSW or exact over every embedding. */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import { materialFilterConditions } from '../material.repository.js';
import type { LabelClass } from '../material.table.js';
import { checkDim } from '../vector.js';
import { distanceSql, referenceDistanceSql, materialJoin, materialSummaryColumns, splitMaterial, vectorParam } from './fragments.js';
import { checkId } from './names.js';
import type { CandidateFilter, ModelVectorSpec, NeighbourRow, VectorQuery } from './types.js';


/**
 * The query vector as SQL: a literal, or a scalar subquery reading the material's embedding (an
 * InitPlan, evaluated once, which an HNSW index scan accepts as its ORDER BY argument). Reading it
 * in the same statement saves a round trip; a material without an embedding yields no rows.
 */
export function queryVectorSql(model: ModelVectorSpec, query: VectorQuery): RawBuilder<unknown> {
  const dim = sql.lit(checkDim(model.dim));
  if ('vec' in query) return vectorParam(query.vec, model.dim);
  return sql`(select q.vec::vector(${dim}) from embedding q
    where q.model_id = ${checkId(model.modelId, 'model id')}::bigint and q.material_id = ${checkId(query.materialId, 'material id')}::bigint)`;
}

export async function embeddingOf(db: Db, modelId: string, materialId: string): Promise<string | null> {
  const { rows } = await sql<{ vec: string }>`
    select vec::text as vec from embedding where model_id = ${modelId}::bigint and material_id = ${materialId}::bigint`.execute(db);
  return rows[0]?.vec ?? null;
}


/**
 * Exact k nearest references of one class (screening_reference is small: labelled materials
 * only), nearest first, ties by id. `excludeId` leaves the query material itself out.
 */
export async function nearestReferences(
  db: Db,
  model: ModelVectorSpec,
  query: VectorQuery,
  cls: LabelClass,
  k: number,
  excludeId: string | null,
  filter: CandidateFilter = {},
): Promise<NeighbourRow[]> {
  const dim = sql.lit(checkDim(model.dim));
  const { rows } = await sql<NeighbourRow>`
    select r.material_id::text as material_id, ${distanceSql(model.distance, sql`r.vec::vector(${dim})`, queryVectorSql(model, query))} as distance
    from screening_reference r ${materialJoin(filter, 'r.material_id')}
    where r.model_id = ${model.modelId}::bigint and r.class = ${cls}
      ${excludeId === null ? sql`` : sql`and r.material_id <> ${excludeId}::bigint`}
    order by 2, 1 limit ${k}`.execute(db);
  return rows.filter((r) => r.distance !== null).map((r) => ({ material_id: r.material_id, distance: Number(r.distance) }));
}

/**
 * The k nearest references of a class of each stored material (exact, one statement). With
 * `withMaterials`, the neighbours' material rows too, joined outside the kNN and once per distinct
 * neighbour (a reference is near many candidates): the other rows of that neighbour carry none.
 */
export async function nearestReferencesOfMaterials(
  db: Db,
  model: ModelVectorSpec,
  materialIds: readonly string[],
  cls: LabelClass,
  k: number,
  opts: { withMaterials?: boolean } = {},
): Promise<(NeighbourRow & { query_id: string })[]> {
  if (materialIds.length === 0) return [];
  const dim = sql.lit(checkDim(model.dim));
  const { rows } = await sql<Record<string, unknown>>`
    select x.query_id, x.material_id::text as material_id, x.distance ${opts.withMaterials ? materialSummaryColumns('m') : sql``}
    from (
      select q.material_id::text as query_id, n.material_id, n.distance,
        row_number() over (partition by n.material_id) = 1 as first_of_material
      from embedding q
      cross join lateral (
        select r.material_id, ${distanceSql(model.distance, sql`r.vec::vector(${dim})`, sql`q.vec::vector(${dim})`)} as distance
        from screening_reference r
        where r.model_id = q.model_id and r.class = ${cls} and r.material_id <> q.material_id
        order by 2, 1 limit ${k}
      ) n
      where q.model_id = ${model.modelId}::bigint and q.material_id = any(${[...materialIds]}::bigint[])
    ) x
    ${opts.withMaterials ? sql`left join material m on x.first_of_material and m.id = x.material_id` : sql``}
    order by x.query_id, x.distance, x.material_id`.execute(db);
  return rows.map((r) => {
    const { own, material } = splitMaterial<{ query_id: string; material_id: string; distance: number }>(r, NEAREST_REFERENCE_COLUMNS);
    return { ...own, distance: Number(own.distance), ...(opts.withMaterials && material.id !== null ? { material } : {}) };
  });
}
export const NEAREST_REFERENCE_COLUMNS = ['query_id', 'material_id', 'distance'] as const;
export const NEIGHBOUR_COLUMNS = ['material_id', 'distance'] as const;

/** Σ and count of the ratio's distances (bounded with the model's scale) from `vec` to every current reference, per class (ALL mode, exact). */
export async function referenceSums(
  db: Db,
  model: ModelVectorSpec,
  vec: string,
): Promise<{ sumFast: number; nFast: number; sumPoor: number; nPoor: number }> {
  const dim = sql.lit(checkDim(model.dim));
  const d = referenceDistanceSql(model, sql`r.vec::vector(${dim})`, vectorParam(vec, model.dim));
  const { rows } = await sql<Record<string, unknown>>`
    select coalesce(sum(${d}) filter (where r.class = 'FAST'), 0)::float8 as sum_fast, count(*) filter (where r.class = 'FAST') as n_fast,
           coalesce(sum(${d}) filter (where r.class = 'POOR'), 0)::float8 as sum_poor, count(*) filter (where r.class = 'POOR') as n_poor
    from screening_reference r where r.model_id = ${model.modelId}::bigint`.execute(db);
  const row = rows[0]!;
  return { sumFast: Number(row.sum_fast), nFast: Number(row.n_fast), sumPoor: Number(row.sum_poor), nPoor: Number(row.n_poor) };
}


/**
 * k nearest materials to a query vector under a model, optionally only unlabelled ones, and with
 * each neighbour's material row (`withMaterials`).
 *
 * - `exact`: a scan of the model's rows and a top-k sort (the distance is written so that the
 *   planner cannot use the HNSW index); any handle, no settings. For small stores, where the planner
 *   would scan anyway.
 * - otherwise the model's HNSW index (approximate: ef_search candidates). The label and material filters are
 *   applied *after* the index scan, so it runs with `hnsw.iterative_scan = strict_order` (pgvector ≥
 *   0.8): the scan keeps going until k rows pass the filter (up to hnsw.max_scan_tuples), and returns
 *   them in order. Both settings are made by the statement itself (see below): one round trip, no
 *   transaction, and nothing left on the connection.
 */
export async function nearestEmbeddings(
  db: Db,
  model: ModelVectorSpec,
  query: VectorQuery,
  k: number,
  opts: {
    excludeId: string | null;
    onlyUnlabelled: boolean;
    efSearch: number;
    withMaterials?: boolean;
    exact?: boolean;
    /** Conditions on the neighbours' material rows (applied like the label filter, after the index scan). */
    filter?: CandidateFilter;
  },
): Promise<NeighbourRow[]> {
  const conditions = materialFilterConditions({ ...opts.filter, ...(opts.onlyUnlabelled ? { currentLabelClass: null } : {}) }, 'm');
  const dim = sql.lit(checkDim(model.dim));
  const indexed = distanceSql(model.distance, sql`e.vec::vector(${dim})`, queryVectorSql(model, query));
  // "+ 0" keeps the planner from matching the HNSW index expression.
  const d = opts.exact ? sql`(${indexed} + 0)` : indexed;
  // The neighbours' material rows are joined outside the kNN, so its plan stays the index scan.
  // The index settings are made in the statement: set_config(…, is_local) in a one-row subquery that
  // the kNN reads laterally, so it is evaluated before the index scan starts, and it lasts until the
  // end of the statement's (implicit) transaction. Saves the BEGIN, SET and COMMIT round trips.
  // The excluded material (the query itself) is dropped from k + 1 rows rather than filtered in SQL:
  // a filter would need an iterative index scan, which costs more and finds fewer true neighbours.
  const scan = (settingsGate: RawBuilder<unknown>) => sql`
    select e.material_id::text as material_id, ${d} as distance
    from embedding e ${conditions.length > 0 ? sql`join material m on m.id = e.material_id and ${sql.join(conditions, sql` and `)}` : sql``}
    where e.model_id = ${model.modelId}::bigint ${settingsGate}
    order by ${d} limit ${opts.excludeId === null ? k : k + 1}`;
  const knn = opts.exact
    ? scan(sql``)
    : sql`select k.material_id, k.distance from (select set_config('hnsw.ef_search', ${String(opts.efSearch)}, true) is not null
          and set_config('hnsw.iterative_scan', ${conditions.length > 0 ? 'strict_order' : 'off'}, true) is not null as ok) cfg
        cross join lateral (${scan(sql`and cfg.ok`)}) k`;
  const { rows } = await (
    opts.withMaterials
      ? sql<Record<string, unknown>>`select n.material_id, n.distance ${materialSummaryColumns('mm')}
          from (${knn}) n join material mm on mm.id = n.material_id::bigint order by n.distance`
      : sql<Record<string, unknown>>`${knn}`
  ).execute(db);
  return rows
    .filter((r) => r.distance !== null && r.material_id !== opts.excludeId)
    .slice(0, k)
    .map((r) => {
      const { own, material } = splitMaterial<{ material_id: string; distance: number }>(r, NEIGHBOUR_COLUMNS);
      return { material_id: own.material_id, distance: Number(own.distance), ...(opts.withMaterials ? { material } : {}) };
    });
}

/** Exact k nearest materials (sequential scan; the reference for recall measurements and tests). */
export async function exactNearestEmbeddings(
  db: Db,
  model: ModelVectorSpec,
  vec: string,
  k: number,
  opts: { excludeId: string | null; onlyUnlabelled: boolean },
): Promise<NeighbourRow[]> {
  const dim = sql.lit(checkDim(model.dim));
  // "+ 0" keeps the planner from matching the HNSW index expression.
  const d = sql`(${distanceSql(model.distance, sql`e.vec::vector(${dim})`, vectorParam(vec, model.dim))} + 0)`;
  const { rows } = await sql<NeighbourRow>`
    select e.material_id::text as material_id, ${d} as distance
    from embedding e ${opts.onlyUnlabelled ? sql`join material m on m.id = e.material_id and m.current_label_class is null` : sql``}
    where e.model_id = ${model.modelId}::bigint ${opts.excludeId === null ? sql`` : sql`and e.material_id <> ${opts.excludeId}::bigint`}
    order by 2, 1 limit ${k}`.execute(db);
  return rows.map((r) => ({ material_id: r.material_id, distance: Number(r.distance) }));
}
