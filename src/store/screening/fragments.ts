/** SQL fragments shared by the screening store's statements (expressions, joins, column lists). */
import { sql, type RawBuilder } from 'kysely';
import { BadInputError } from '../../errors.js';
import { MATERIAL_SUMMARY_COLUMNS, materialFilterConditions, type MaterialSummaryRow } from '../material.repository.js';
import type { EmbeddingDistance } from '../model.table.js';
import { checkDim, distanceOperator } from '../vector.js';
import type { CandidateFilter, PageQuery, RankedRow } from './types.js';

/** `a OP b` for the model's distance. */
export function distanceSql(distance: EmbeddingDistance, a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(${a} ${sql.raw(distanceOperator(distance))} ${b})`;
}

/**
 * The distance the ratio averages (src/scoring/score.ts `boundedDistance`): `a OP b`, or
 * 1 − exp(−(a OP b)/scale) for a model with a distance scale. The exponent is capped at 700:
 * PostgreSQL's exp() raises "value out of range: underflow" below about −745 where JavaScript's
 * Math.exp gives 0, and 1 − exp(−700) is already exactly 1 in float8, so the values are the same.
 */
export function referenceDistanceSql(spec: { distance: EmbeddingDistance; distanceScale: number | null }, a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  const d = distanceSql(spec.distance, a, b);
  if (spec.distanceScale === null) return d;
  if (!(Number.isFinite(spec.distanceScale) && spec.distanceScale > 0)) throw new BadInputError(`invalid distance scale ${spec.distanceScale}`);
  return sql<number>`(1 - exp(-least(${d} / ${sql.lit(spec.distanceScale)}::float8, 700)))`;
}

export function vectorParam(text: string, dim: number): RawBuilder<unknown> {
  return sql`${text}::vector(${sql.lit(checkDim(dim))})`;
}


export function materialJoin(filter: CandidateFilter, idColumn: string, always = false): RawBuilder<unknown> {
  const conditions = materialFilterConditions(filter, 'm');
  if (conditions.length === 0) return always ? sql`join material m on m.id = ${sql.ref(idColumn)}` : sql``;
  return sql`join material m on m.id = ${sql.ref(idColumn)} and ${sql.join(conditions, sql` and `)}`;
}

export function pageConditions(page: PageQuery, score: string, id: string): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (page.after) {
    parts.push(sql`(${sql.ref(score)}, ${sql.ref(id)}) < (${page.after.score}::float8, ${page.after.materialId}::bigint)`);
  }
  if (page.minScore !== null) parts.push(sql`${sql.ref(score)} >= ${page.minScore}::float8`);
  return parts.length === 0 ? sql`` : sql`and ${sql.join(parts, sql` and `)}`;
}

/**
 * `, m.id, m.name, …`: a material row without the structure JSON (most of a row's bytes; GraphQL
 * loads it only for the fields computed from it). No column is named like the ranking and
 * neighbour columns (material_id, query_id, score, sum_fast, sum_poor, distance).
 */
export function materialSummaryColumns(alias: string): RawBuilder<unknown> {
  return sql`, ${sql.join(MATERIAL_SUMMARY_COLUMNS.map((c) => sql.ref(`${alias}.${c}`)))}`;
}

/** The candidates' material rows, when the page was asked for them. */
export function materialColumns(page: PageQuery): RawBuilder<unknown> {
  return page.withMaterials ? materialSummaryColumns('m') : sql``;
}

/** Splits the material summary columns off a row (materialSummaryColumns). */
export function splitMaterial<T extends Record<string, unknown>>(row: Record<string, unknown>, own: readonly (keyof T & string)[]): { own: T; material: MaterialSummaryRow } {
  const mine: Record<string, unknown> = {};
  for (const key of own) mine[key] = row[key];
  const material: Record<string, unknown> = {};
  for (const key of MATERIAL_SUMMARY_COLUMNS) material[key] = row[key];
  return { own: mine as T, material: material as unknown as MaterialSummaryRow };
}

export function toRankedRows(rows: readonly Record<string, unknown>[], page: PageQuery): RankedRow[] {
  return rows.map((r) => {
    const { own, material } = splitMaterial<{ material_id: string; score: number; sum_fast: number; sum_poor: number }>(r, RANKED_COLUMNS);
    return {
      material_id: String(own.material_id),
      score: Number(own.score),
      sum_fast: Number(own.sum_fast),
      sum_poor: Number(own.sum_poor),
      ...(page.withMaterials ? { material } : {}),
    };
  });
}
export const RANKED_COLUMNS = ['material_id', 'score', 'sum_fast', 'sum_poor'] as const;

