/** NEAREST(k) scores: per class, the mean distance to the k nearest current references. */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import { materialFilterConditions } from '../material.repository.js';
import type { LabelClass } from '../material.table.js';
import { checkDim } from '../vector.js';
import { pageConditions, referenceDistanceSql } from './fragments.js';
import { scoreSql } from './score.js';
import type { CandidateFilter, ModelVectorSpec, PageQuery } from './types.js';

export interface NearestMeansRow {
  material_id: string;
  mean_fast: number | null;
  n_fast: number;
  mean_poor: number | null;
  n_poor: number;
}

/**
 * NEAREST(k) means of stored materials: per class, the mean distance to the k nearest current
 * references (the material itself left out), one LATERAL exact kNN per material and class.
 * `candidates` selects the materials: explicit ids, or every unlabelled embedded material matching
 * a filter (capped by `limit`, which the caller checks first with countNearestCandidates).
 */
function nearestMeansSql(model: ModelVectorSpec, k: number, materials: RawBuilder<unknown>): RawBuilder<unknown> {
  const dim = sql.lit(checkDim(model.dim));
  const lateral = (cls: LabelClass, alias: string) => sql`
    cross join lateral (
      select avg(z.d)::float8 as mean, count(*)::int as n from (
        select ${referenceDistanceSql(model, sql`r.vec::vector(${dim})`, sql`c.vec`)} as d
        from screening_reference r
        where r.model_id = ${model.modelId}::bigint and r.class = ${cls} and r.material_id <> c.material_id
        order by 1 limit ${k}) z
    ) ${sql.raw(alias)}`;
  return sql`(select c.material_id, f.mean as mean_fast, f.n as n_fast, p.mean as mean_poor, p.n as n_poor
    from ${materials} c ${lateral('FAST', 'f')} ${lateral('POOR', 'p')})`;
}

function embeddedMaterialsSql(model: ModelVectorSpec, where: RawBuilder<unknown>): RawBuilder<unknown> {
  const dim = sql.lit(checkDim(model.dim));
  return sql`(select e.material_id, e.vec::vector(${dim}) as vec from embedding e
    where e.model_id = ${model.modelId}::bigint and ${where})`;
}

function unlabelledCandidatesSql(model: ModelVectorSpec, filter: CandidateFilter): RawBuilder<unknown> {
  const dim = sql.lit(checkDim(model.dim));
  const conditions = materialFilterConditions({ ...filter, currentLabelClass: null }, 'm');
  return sql`(select m.id as material_id, e.vec::vector(${dim}) as vec
    from material m join embedding e on e.model_id = ${model.modelId}::bigint and e.material_id = m.id
    where ${sql.join(conditions, sql` and `)})`;
}

export async function nearestMeansOfMaterials(db: Db, model: ModelVectorSpec, k: number, materialIds: readonly string[]): Promise<NearestMeansRow[]> {
  if (materialIds.length === 0) return [];
  const materials = embeddedMaterialsSql(model, sql`e.material_id = any(${[...materialIds]}::bigint[])`);
  const { rows } = await sql<Record<string, unknown>>`
    select x.material_id::text as material_id, x.mean_fast, x.n_fast, x.mean_poor, x.n_poor from ${nearestMeansSql(model, k, materials)} x`.execute(db);
  return rows.map(toNearestMeansRow);
}

/** Unlabelled embedded materials matching the filter, counted up to `cap + 1`. */
export async function countNearestCandidates(db: Db, model: ModelVectorSpec, filter: CandidateFilter, cap: number): Promise<number> {
  const { rows } = await sql<{ count: string }>`
    select count(*) as count from (select 1 from ${unlabelledCandidatesSql(model, filter)} c limit ${cap + 1}) x`.execute(db);
  return Number(rows[0]!.count);
}

/** A NEAREST(k) ranking page over every unlabelled embedded material matching the filter. */
export async function nearestPage(
  db: Db,
  model: ModelVectorSpec,
  k: number,
  page: PageQuery,
): Promise<(NearestMeansRow & { score: number })[]> {
  // Means are already means: the sums-and-counts rule with counts 1.
  const scored = sql`(select x.*, ${scoreSql(sql`x.mean_fast`, sql`x.mean_poor`, 1, 1)} as score
    from ${nearestMeansSql(model, k, unlabelledCandidatesSql(model, page.filter))} x)`;
  const { rows } = await sql<Record<string, unknown>>`
    select s.material_id::text as material_id, s.mean_fast, s.n_fast, s.mean_poor, s.n_poor, s.score
    from ${scored} s where true ${pageConditions(page, 's.score', 's.material_id')}
    order by s.score desc, s.material_id desc limit ${page.limit}`.execute(db);
  return rows.map((r) => ({ ...toNearestMeansRow(r), score: Number(r.score) }));
}

function toNearestMeansRow(r: Record<string, unknown>): NearestMeansRow {
  return {
    material_id: String(r.material_id),
    mean_fast: r.mean_fast === null ? null : Number(r.mean_fast),
    n_fast: Number(r.n_fast),
    mean_poor: r.mean_poor === null ? null : Number(r.mean_poor),
    n_poor: Number(r.n_poor),
  };
}
