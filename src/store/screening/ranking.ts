/** Ranking pages and counts over a snapshot, with the pending changes applied on the fly. */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import { materialFilterConditions } from '../material.repository.js';
import type { LabelClass } from '../material.table.js';
import { materialColumns, materialJoin, pageConditions, toRankedRows } from './fragments.js';
import { snapshotTableName } from './names.js';
import { scoreSql } from './score.js';
import { exactRowsSql } from './snapshot.js';
import type { CandidateFilter, NetChange, PageQuery, RankedRow, SnapshotSpec } from './types.js';

/** A page read from a snapshot's ranking index (no pending changes). */
export async function snapshotPage(db: Db, spec: SnapshotSpec, page: PageQuery): Promise<RankedRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select s.material_id::text as material_id, s.score, s.sum_fast, s.sum_poor ${materialColumns(page)}
    from ${sql.table(snapshotTableName(spec.snapshotId))} s ${materialJoin(page.filter, 's.material_id', page.withMaterials)}
    where s.class is null ${pageConditions(page, 's.score', 's.material_id')}
    order by s.score desc, s.material_id desc limit ${page.limit}`.execute(db);
  return toRankedRows(rows, page);
}

export function scoredCandidatesSql(spec: SnapshotSpec, changes: readonly NetChange[], counts: { nFast: number; nPoor: number }) {
  return sql`(select x.material_id, x.sum_fast, x.sum_poor,
      ${scoreSql(sql`x.sum_fast`, sql`x.sum_poor`, counts.nFast, counts.nPoor)} as score
    from ${exactRowsSql(spec, changes)} x where x.class_now is null)`;
}

/**
 * A page computed from the snapshot with the pending changes applied on the fly: one pass over
 * every row (~1 s at 1 M rows). Used only when no head can answer the page.
 */
export async function exactPage(
  db: Db,
  spec: SnapshotSpec,
  changes: readonly NetChange[],
  counts: { nFast: number; nPoor: number },
  page: PageQuery,
): Promise<RankedRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select c.material_id::text as material_id, c.score, c.sum_fast, c.sum_poor ${materialColumns(page)}
    from ${scoredCandidatesSql(spec, changes, counts)} c ${materialJoin(page.filter, 'c.material_id', page.withMaterials)}
    where true ${pageConditions(page, 'c.score', 'c.material_id')}
    order by c.score desc, c.material_id desc limit ${page.limit}`.execute(db);
  return toRankedRows(rows, page);
}

/** Current candidates matching the filter (optionally with score ≥ minScore). */
export async function countCandidates(
  db: Db,
  spec: SnapshotSpec,
  changes: readonly NetChange[],
  counts: { nFast: number; nPoor: number },
  filter: CandidateFilter,
  minScore: number | null,
): Promise<number> {
  let source: RawBuilder<unknown>;
  if (changes.length === 0) {
    source = sql`(select s.material_id, s.score from ${sql.table(snapshotTableName(spec.snapshotId))} s where s.class is null)`;
  } else if (minScore === null) {
    const out = changes.filter((c) => c.fromClass === null).map((c) => c.materialId);
    const into = changes.filter((c) => c.toClass === null).map((c) => c.materialId);
    source = sql`(select s.material_id, null::float8 as score from ${sql.table(snapshotTableName(spec.snapshotId))} s
      where (s.class is null and s.material_id <> all(${out}::bigint[])) or s.material_id = any(${into}::bigint[]))`;
  } else {
    source = scoredCandidatesSql(spec, changes, counts);
  }
  const { rows } = await sql<{ count: string }>`
    select count(*) as count from ${source} c ${materialJoin(filter, 'c.material_id')}
    where true ${minScore === null ? sql`` : sql`and c.score >= ${minScore}::float8`}`.execute(db);
  return Number(rows[0]!.count);
}

/** Unlabelled materials matching the filter, embedded or not (for `leftOut`). */
export async function countUnlabelledMaterials(db: Db, filter: CandidateFilter): Promise<number> {
  const conditions = materialFilterConditions({ ...filter, currentLabelClass: null }, 'm');
  const { rows } = await sql<{ count: string }>`
    select count(*) as count from material m where ${sql.join(conditions, sql` and `)}`.execute(db);
  return Number(rows[0]!.count);
}

export interface ExactMaterialRow {
  material_id: string;
  class_now: LabelClass | null;
  sum_fast: number;
  sum_poor: number;
}

/** Current status and sums of these materials (those that have a snapshot row). */
export async function exactMaterialRows(
  db: Db,
  spec: SnapshotSpec,
  changes: readonly NetChange[],
  materialIds: readonly string[],
): Promise<ExactMaterialRow[]> {
  if (materialIds.length === 0) return [];
  const { rows } = await sql<Record<string, unknown>>`
    select x.material_id::text as material_id, x.class_now, x.sum_fast, x.sum_poor
    from ${exactRowsSql(spec, changes, sql`t.material_id = any(${[...materialIds]}::bigint[])`)} x`.execute(db);
  return rows.map((r) => ({
    material_id: String(r.material_id),
    class_now: (r.class_now as LabelClass | null) ?? null,
    sum_fast: Number(r.sum_fast),
    sum_poor: Number(r.sum_poor),
  }));
}

