/**
 * Queries of the screening store (no logic; src/services/screening.ts explains the design).
 *
 * A model's stored sums live in a *snapshot table* `screening_snapshot_<id>`, one row per material
 * that has an embedding under the model:
 *
 *   material_id  bigint        the material
 *   class        text          its status when the snapshot was written: null = candidate
 *                              (unlabelled), 'FAST'/'POOR' = reference of that class
 *   sum_fast     float8        Σ d(q, h) over the snapshot's FAST references h ≠ q
 *   sum_poor     float8        Σ d(q, p) over the snapshot's POOR references p ≠ q
 *   score        float8        R(q) of a candidate at the snapshot's counts (null for references)
 *   vec          vector(dim)   the embedding, copied so that no pass over the table needs a join
 *
 * with a unique index on material_id, the ranking index (score desc, material_id desc) over the
 * candidates, and a small partial index on the references. Snapshot tables are written once
 * (CREATE TABLE … AS, then indexed) and only ever appended to (materials embedded later).
 *
 * Reference changes since the snapshot ("pending", `screening_event`) are applied on the fly by
 * `exactRowsSql`, which computes every row's current sums from its stored sums plus one distance
 * per changed reference — the same expression the next fold writes, so stored and on-the-fly
 * scores are bitwise equal.
 *
 * `db` may be a transaction. Table and index names are spliced into SQL: only integer ids reach them.
 */
import { sql, type RawBuilder } from 'kysely';
import { BadInputError } from '../errors.js';
import type { Db } from './database.js';
import {
  MATERIAL_SUMMARY_COLUMNS,
  materialFilterConditions,
  type MaterialRowFilter,
  type MaterialSummaryRow,
} from './material.repository.js';
import type { LabelClass } from './material.table.js';
import type { EmbeddingDistance } from './model.table.js';
import { checkDim, distanceOperator } from './vector.js';

// ---------------------------------------------------------------------------------------------
// Names, locks, distance SQL


/** Two-key advisory locks: (namespace, model id). Namespaces are arbitrary constants of this module. */
const MODEL_LOCK_NAMESPACE = 0x5c4e;
const EVENT_LOCK_NAMESPACE = 0x5c4f;

function checkId(id: string | number | bigint, what: string): string {
  const text = String(id);
  if (!/^[1-9]\d{0,17}$/.test(text)) throw new BadInputError(`invalid ${what} ${text}`);
  return text;
}

export function snapshotTableName(snapshotId: string | number | bigint): string {
  return `screening_snapshot_${checkId(snapshotId, 'snapshot id')}`;
}

const SNAPSHOT_TABLE_PATTERN = /^screening_snapshot_([1-9]\d{0,17})$/;

function lockKey(modelId: string): RawBuilder<number> {
  // int4 key: model ids beyond 2^31 share keys, which only serialises more than needed.
  return sql<number>`(${checkId(modelId, 'model id')}::bigint % 2147483647)::int4`;
}

/**
 * Serialises writers of a model's snapshot tables and state (full re-score, fold, appending rows
 * for new embeddings) until the end of the transaction. Label writers do not take it.
 */
export async function lockModelScreening(db: Db, modelId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(MODEL_LOCK_NAMESPACE)}, ${lockKey(modelId)})`.execute(db);
}

/** Serialises writers of a model's references, events and heads until the end of the transaction. */
export async function lockScreeningEvents(db: Db, modelId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(EVENT_LOCK_NAMESPACE)}, ${lockKey(modelId)})`.execute(db);
}

/**
 * Session settings for the heavy statements of this transaction: JIT compilation costs ~0.8 s per
 * statement and buys nothing on a distance expression; sorts and index builds get more memory.
 */
export async function tuneHeavyTransaction(db: Db, opts: { maintenanceWorkMem?: string; background?: boolean } = {}): Promise<void> {
  await sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true),
    set_config('maintenance_work_mem', ${opts.maintenanceWorkMem ?? '256MB'}, true)`.execute(db);
  // Background work (a fold, while readers are served) stays on one core: parallel workers for its
  // CREATE TABLE AS and index builds would take every core and the readers' latency with them.
  if (opts.background) {
    await sql`select set_config('max_parallel_workers_per_gather', '0', true), set_config('max_parallel_maintenance_workers', '0', true)`.execute(db);
  }
}

/** `a OP b` for the model's distance. */
function distanceSql(distance: EmbeddingDistance, a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(${a} ${sql.raw(distanceOperator(distance))} ${b})`;
}

function vectorParam(text: string, dim: number): RawBuilder<unknown> {
  return sql`${text}::vector(${sql.lit(checkDim(dim))})`;
}

/**
 * R from sums and counts, the rule of src/scoring ratioScore in SQL (the ranking must be ordered
 * in SQL): meanPoor / meanFast; +Infinity when meanFast = 0 < meanPoor; 1 when both are 0.
 * Sums are clamped at 0 (removing references can leave a rounding residue below 0).
 */
export function scoreSql(sumFast: RawBuilder<number>, sumPoor: RawBuilder<number>, nFast: number, nPoor: number): RawBuilder<number> {
  if (!(nFast > 0 && nPoor > 0)) return sql<number>`null::float8`;
  const meanFast = sql`(greatest(${sumFast}, 0::float8) / ${sql.lit(nFast)}::float8)`;
  const meanPoor = sql`(greatest(${sumPoor}, 0::float8) / ${sql.lit(nPoor)}::float8)`;
  return sql<number>`(case when ${meanFast} > 0 then ${meanPoor} / ${meanFast}
    when ${meanPoor} > 0 then 'Infinity'::float8 else 1::float8 end)`;
}

// ---------------------------------------------------------------------------------------------
// State, events, heads

export interface ScreeningStateRow {
  model_id: string;
  snapshot_id: string;
  previous_snapshot_id: string | null;
  embedding_dim: number;
  distance: EmbeddingDistance;
  n_fast: number;
  n_poor: number;
  n_candidates: number;
  built_at: Date;
  folded_at: Date;
}

export interface ScreeningEventRow {
  id: string;
  materialId: string;
  fromClass: LabelClass | null;
  toClass: LabelClass | null;
  /** pgvector text literal. */
  vec: string;
}

export interface HeadMetaRow {
  head_id: string;
  snapshot_id: string;
  last_event_id: string;
  n_fast: number;
  n_poor: number;
  n_rows: number;
  complete: boolean;
}

export interface ScreeningView {
  state: ScreeningStateRow;
  /** Events not folded into the snapshot yet, oldest first. */
  events: ScreeningEventRow[];
  /** The newest head, if any. */
  head: HeadMetaRow | null;
}

/**
 * State, pending events and newest head of a model, read in ONE statement so that they belong to
 * the same committed state (a fold swaps the snapshot and deletes the events it folded atomically).
 */
export async function readScreeningView(db: Db, modelId: string): Promise<ScreeningView | null> {
  const { rows } = await sql<Record<string, unknown>>`${viewSelect(sql`${checkId(modelId, 'model id')}::bigint`)}`.execute(db);
  return rows[0] ? toView(rows[0]) : null;
}

function viewSelect(modelId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    select s.model_id::text as model_id, s.snapshot_id::text as snapshot_id,
      s.previous_snapshot_id::text as previous_snapshot_id, s.embedding_dim, s.distance,
      s.n_fast, s.n_poor, s.n_candidates::float8 as n_candidates, s.built_at, s.folded_at,
      (select coalesce(json_agg(json_build_object('id', e.id::text, 'materialId', e.material_id::text,
          'fromClass', e.from_class, 'toClass', e.to_class, 'vec', e.vec::text) order by e.id), '[]'::json)
        from screening_event e where e.model_id = s.model_id) as events,
      (select json_build_object('head_id', h.head_id::text, 'snapshot_id', h.snapshot_id::text,
          'last_event_id', h.last_event_id::text, 'n_fast', h.n_fast, 'n_poor', h.n_poor,
          'n_rows', h.n_rows, 'complete', h.complete)
        from screening_head_meta h where h.model_id = s.model_id order by h.head_id desc limit 1) as head
    from screening_state s where s.model_id = ${modelId}`;
}

function toView(row: Record<string, unknown>): ScreeningView {
  const parse = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
  return {
    state: {
      model_id: String(row.model_id),
      snapshot_id: String(row.snapshot_id),
      previous_snapshot_id: row.previous_snapshot_id === null ? null : String(row.previous_snapshot_id),
      embedding_dim: Number(row.embedding_dim),
      distance: row.distance as EmbeddingDistance,
      n_fast: Number(row.n_fast),
      n_poor: Number(row.n_poor),
      n_candidates: Number(row.n_candidates),
      built_at: row.built_at as Date,
      folded_at: row.folded_at as Date,
    },
    events: parse<ScreeningEventRow[]>(row.events),
    head: parse<HeadMetaRow | null>(row.head),
  };
}

/** The columns of `model` that screening needs (weights and JSON columns left out). */
export interface ScreeningModelRow {
  id: string;
  status: string;
  embedding_dim: number | null;
  distance: EmbeddingDistance;
  threshold: number | null;
}

/**
 * A model (by id, or the active one when `modelId` is null) with its screening view, in ONE
 * statement: a page of `screen` costs this round trip plus the page itself.
 */
export async function readModelAndView(
  db: Db,
  modelId: string | null,
): Promise<{ model: ScreeningModelRow | null; view: ScreeningView | null }> {
  const { rows } = await sql<Record<string, unknown>>`
    select md.id::text as model_row_id, md.status as model_status, md.embedding_dim as model_dim,
      md.distance as model_distance, md.threshold as model_threshold, v.*
    from model md
    left join lateral (${viewSelect(sql`md.id`)}) v on true
    where ${modelId === null ? sql`md.is_active` : sql`md.id = ${checkId(modelId, 'model id')}::bigint`}
    limit 1`.execute(db);
  const row = rows[0];
  if (!row) return { model: null, view: null };
  const model: ScreeningModelRow = {
    id: String(row.model_row_id),
    status: String(row.model_status),
    embedding_dim: row.model_dim === null ? null : Number(row.model_dim),
    distance: row.model_distance as EmbeddingDistance,
    threshold: row.model_threshold === null ? null : Number(row.model_threshold),
  };
  return { model, view: row.model_id === null || row.model_id === undefined ? null : toView(row) };
}

export async function listScreenedModelIds(db: Db): Promise<string[]> {
  const { rows } = await sql<{ model_id: string }>`select model_id::text as model_id from screening_state order by model_id`.execute(db);
  return rows.map((r) => r.model_id);
}

export async function upsertScreeningState(
  db: Db,
  row: Omit<ScreeningStateRow, 'built_at' | 'folded_at'>,
  opts: { rebuilt: boolean },
): Promise<void> {
  await sql`
    insert into screening_state (model_id, snapshot_id, previous_snapshot_id, embedding_dim, distance, n_fast, n_poor, n_candidates)
    values (${row.model_id}::bigint, ${row.snapshot_id}::bigint, ${row.previous_snapshot_id}::bigint, ${row.embedding_dim},
      ${row.distance}, ${row.n_fast}, ${row.n_poor}, ${row.n_candidates})
    on conflict (model_id) do update set snapshot_id = excluded.snapshot_id,
      previous_snapshot_id = excluded.previous_snapshot_id, embedding_dim = excluded.embedding_dim,
      distance = excluded.distance, n_fast = excluded.n_fast, n_poor = excluded.n_poor,
      n_candidates = excluded.n_candidates, folded_at = now()
      ${opts.rebuilt ? sql`, built_at = now()` : sql``}`.execute(db);
}

export async function addSnapshotCandidates(db: Db, modelId: string, count: number): Promise<void> {
  if (count === 0) return;
  await sql`update screening_state set n_candidates = n_candidates + ${count} where model_id = ${modelId}::bigint`.execute(db);
}

export async function nextSnapshotId(db: Db): Promise<string> {
  const { rows } = await sql<{ id: string }>`select nextval('screening_snapshot_id_seq')::text as id`.execute(db);
  return rows[0]!.id;
}

export interface NewScreeningEvent {
  materialId: string;
  fromClass: LabelClass | null;
  toClass: LabelClass | null;
  vec: string;
}

export async function insertScreeningEvents(db: Db, modelId: string, events: readonly NewScreeningEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sql`
    insert into screening_event (model_id, material_id, from_class, to_class, vec)
    select ${modelId}::bigint, x.material_id, x.from_class, x.to_class, x.vec::vector
    from unnest(${events.map((e) => e.materialId)}::bigint[], ${events.map((e) => e.fromClass)}::text[],
      ${events.map((e) => e.toClass)}::text[], ${events.map((e) => e.vec)}::text[]) as x(material_id, from_class, to_class, vec)`.execute(db);
}

/** Deletes folded events (by id: events recorded while the fold ran stay pending). */
export async function deleteScreeningEvents(db: Db, modelId: string, eventIds: readonly string[] | 'all'): Promise<void> {
  if (eventIds !== 'all' && eventIds.length === 0) return;
  await sql`delete from screening_event where model_id = ${modelId}::bigint
    ${eventIds === 'all' ? sql`` : sql`and id = any(${[...eventIds]}::bigint[])`}`.execute(db);
}

export async function insertHeadMeta(db: Db, modelId: string, meta: Omit<HeadMetaRow, 'head_id' | 'n_rows' | 'complete'>): Promise<string> {
  const { rows } = await sql<{ head_id: string }>`
    insert into screening_head_meta (model_id, snapshot_id, last_event_id, n_fast, n_poor, n_rows, complete)
    values (${modelId}::bigint, ${meta.snapshot_id}::bigint, ${meta.last_event_id}::bigint, ${meta.n_fast}, ${meta.n_poor}, 0, false)
    returning head_id::text as head_id`.execute(db);
  return rows[0]!.head_id;
}

export async function finishHeadMeta(db: Db, headId: string, nRows: number, complete: boolean): Promise<void> {
  await sql`update screening_head_meta set n_rows = ${nRows}, complete = ${complete} where head_id = ${headId}::bigint`.execute(db);
}

/** Deletes a model's heads older than `keepFromHeadId` (all of them when null). Head rows cascade. */
export async function deleteHeadsBefore(db: Db, modelId: string, keepFromHeadId: string | null): Promise<void> {
  await sql`delete from screening_head_meta where model_id = ${modelId}::bigint
    ${keepFromHeadId === null ? sql`` : sql`and head_id < ${keepFromHeadId}::bigint`}`.execute(db);
}

// ---------------------------------------------------------------------------------------------
// References

export interface ReferenceDiffRow {
  material_id: string;
  /** The material's current label (null: unlabelled now). */
  current_class: LabelClass | null;
  /** Its class in screening_reference (null: not a reference there). */
  reference_class: LabelClass | null;
  vec: string;
}

/**
 * Materials whose current label (under `modelId`, among those with an embedding) differs from the
 * model's reference table; `materialIds` restricts the comparison (null: all labelled materials).
 */
export async function diffReferences(db: Db, modelId: string, materialIds: readonly string[] | null): Promise<ReferenceDiffRow[]> {
  const only = (column: string) => (materialIds === null ? sql`` : sql`and ${sql.ref(column)} = any(${[...materialIds]}::bigint[])`);
  const { rows } = await sql<ReferenceDiffRow>`
    select coalesce(cur.material_id, r.material_id)::text as material_id, cur.class as current_class,
      r.class as reference_class, coalesce(cur.vec, r.vec)::text as vec
    from (select m.id as material_id, m.current_label_class as class, e.vec
          from material m join embedding e on e.model_id = ${modelId}::bigint and e.material_id = m.id
          where m.current_label_class is not null ${only('m.id')}) cur
    full join (select material_id, class, vec from screening_reference
               where model_id = ${modelId}::bigint ${only('material_id')}) r
      on r.material_id = cur.material_id
    where cur.class is distinct from r.class
    order by 1`.execute(db);
  return rows;
}

export async function applyReferenceChanges(db: Db, modelId: string, changes: readonly ReferenceDiffRow[]): Promise<void> {
  const removed = changes.filter((c) => c.current_class === null).map((c) => c.material_id);
  const upserted = changes.filter((c) => c.current_class !== null);
  if (removed.length > 0) {
    await sql`delete from screening_reference where model_id = ${modelId}::bigint and material_id = any(${removed}::bigint[])`.execute(db);
  }
  if (upserted.length > 0) {
    await sql`
      insert into screening_reference (model_id, material_id, class, vec)
      select ${modelId}::bigint, x.material_id, x.class, x.vec::vector
      from unnest(${upserted.map((c) => c.material_id)}::bigint[], ${upserted.map((c) => c.current_class)}::text[],
        ${upserted.map((c) => c.vec)}::text[]) as x(material_id, class, vec)
      on conflict (model_id, material_id) do update set class = excluded.class, vec = excluded.vec`.execute(db);
  }
}

/** Replaces the model's references with its labelled materials that have an embedding. */
export async function rebuildReferences(db: Db, modelId: string): Promise<void> {
  await sql`delete from screening_reference where model_id = ${modelId}::bigint`.execute(db);
  await sql`
    insert into screening_reference (model_id, material_id, class, vec)
    select e.model_id, m.id, m.current_label_class, e.vec
    from material m join embedding e on e.model_id = ${modelId}::bigint and e.material_id = m.id
    where m.current_label_class is not null`.execute(db);
}

export async function countReferences(db: Db, modelId: string): Promise<{ fast: number; poor: number }> {
  const { rows } = await sql<{ fast: number; poor: number }>`
    select count(*) filter (where class = 'FAST')::int as fast, count(*) filter (where class = 'POOR')::int as poor
    from screening_reference where model_id = ${modelId}::bigint`.execute(db);
  return { fast: Number(rows[0]!.fast), poor: Number(rows[0]!.poor) };
}

// ---------------------------------------------------------------------------------------------
// Snapshot tables

export interface SnapshotSpec {
  snapshotId: string;
  dim: number;
  distance: EmbeddingDistance;
}

/**
 * Full score of every embedded material of `modelId` against the model's references, in one
 * statement (CREATE TABLE … AS): per row, two scalar subqueries sum the distances to the FAST and
 * to the POOR reference vectors, each unnesting one array built once by an InitPlan. Measured
 * (2-core machine, 20 k rows × 301 references): ~22 µs per row this way, against ~110 µs when one
 * array of (id, class, vector) triples is unnested with a self-exclusion filter — the function scan
 * then copies every triple per row. A reference's own sums must leave itself out: its distance to
 * itself is subtracted afterwards (0 for EUCLIDEAN; ~1e-8 for COSINE, from rounding).
 */
export async function createSnapshotFromEmbeddings(
  db: Db,
  modelId: string,
  spec: SnapshotSpec,
  counts: { nFast: number; nPoor: number },
): Promise<void> {
  const dim = sql.lit(checkDim(spec.dim));
  const table = sql.table(snapshotTableName(spec.snapshotId));
  const model = sql`${checkId(modelId, 'model id')}::bigint`;
  const sumTo = (cls: LabelClass) => sql<number>`coalesce((select sum(${distanceSql(spec.distance, sql`q.vec`, sql`v`)})
      from unnest((select array_agg(vec::vector(${dim})) from screening_reference where model_id = ${model} and class = ${cls})) v), 0)
    - (case when r.class = ${cls} then ${distanceSql(spec.distance, sql`q.vec`, sql`q.vec`)} else 0 end)`;
  await sql`drop table if exists ${table}`.execute(db);
  await sql`
    create table ${table} as
    select s.material_id, s.class, s.sum_fast, s.sum_poor,
      case when s.class is null then ${scoreSql(sql`s.sum_fast`, sql`s.sum_poor`, counts.nFast, counts.nPoor)} end as score,
      s.vec
    from (
      select e.material_id, r.class, (${sumTo('FAST')})::float8 as sum_fast, (${sumTo('POOR')})::float8 as sum_poor, q.vec
      from embedding e
      cross join lateral (select e.vec::vector(${dim}) as vec) q
      left join screening_reference r on r.model_id = ${model} and r.material_id = e.material_id
      where e.model_id = ${model}
      offset 0
    ) s`.execute(db);
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

/**
 * SELECT of every snapshot row with its *current* status and sums: the stored sums plus/minus one
 * distance per changed reference (a row's own change does not touch its own sums: sums leave the
 * material itself out). Columns: material_id, class_now, sum_fast, sum_poor, vec.
 */
export function exactRowsSql(spec: SnapshotSpec, changes: readonly NetChange[], where: RawBuilder<unknown> | null = null): RawBuilder<unknown> {
  const table = sql.table(snapshotTableName(spec.snapshotId));
  let sumFast: RawBuilder<unknown> = sql`t.sum_fast`;
  let sumPoor: RawBuilder<unknown> = sql`t.sum_poor`;
  const classCases: RawBuilder<unknown>[] = [];
  for (const change of changes) {
    const id = sql`${checkId(change.materialId, 'material id')}::bigint`;
    const d = sql`(case when t.material_id = ${id} then 0::float8 else ${distanceSql(spec.distance, sql`t.vec`, vectorParam(change.vec, spec.dim))} end)`;
    if (change.fromClass === 'FAST') sumFast = sql`${sumFast} - ${d}`;
    if (change.fromClass === 'POOR') sumPoor = sql`${sumPoor} - ${d}`;
    if (change.toClass === 'FAST') sumFast = sql`${sumFast} + ${d}`;
    if (change.toClass === 'POOR') sumPoor = sql`${sumPoor} + ${d}`;
    classCases.push(sql`when ${id} then ${change.toClass}::text`);
  }
  const classNow = classCases.length === 0 ? sql`t.class` : sql`(case t.material_id ${sql.join(classCases, sql` `)} else t.class end)`;
  return sql`(select t.material_id, ${classNow} as class_now, (${sumFast})::float8 as sum_fast,
    (${sumPoor})::float8 as sum_poor, t.vec from ${table} t ${where === null ? sql`` : sql`where ${where}`})`;
}

/**
 * Fold: a new snapshot table from the previous one with the pending changes written in (the same
 * expression as exactRowsSql, so the stored scores equal those served before the fold).
 */
export async function createSnapshotFromSnapshot(
  db: Db,
  from: SnapshotSpec,
  toSnapshotId: string,
  changes: readonly NetChange[],
  counts: { nFast: number; nPoor: number },
): Promise<void> {
  const table = sql.table(snapshotTableName(toSnapshotId));
  await sql`drop table if exists ${table}`.execute(db);
  await sql`
    create table ${table} as
    select x.material_id, x.class_now as class, x.sum_fast, x.sum_poor,
      case when x.class_now is null then ${scoreSql(sql`x.sum_fast`, sql`x.sum_poor`, counts.nFast, counts.nPoor)} end as score,
      x.vec
    from ${exactRowsSql(from, changes)} x`.execute(db);
}

/**
 * Indexes of a freshly written snapshot table, then (with `analyze`) planner statistics. A fold
 * skips ANALYZE (autovacuum analyzes the new table soon after): the page queries use the ranking
 * index whatever the statistics, and every second of CPU a fold saves is a second readers keep.
 */
export async function indexSnapshotTable(db: Db, snapshotId: string, opts: { analyze: boolean } = { analyze: true }): Promise<void> {
  const name = snapshotTableName(snapshotId);
  const table = sql.table(name);
  await sql`alter table ${table} alter column material_id set not null`.execute(db);
  await sql`create unique index ${sql.id(`${name}_material_uq`)} on ${table} (material_id)`.execute(db);
  await sql`create index ${sql.id(`${name}_rank_idx`)} on ${table} (score desc, material_id desc) where class is null`.execute(db);
  await sql`create index ${sql.id(`${name}_references_idx`)} on ${table} (class) where class is not null`.execute(db);
  if (opts.analyze) await sql`analyze ${table}`.execute(db);
}

export async function countSnapshotRows(db: Db, snapshotId: string): Promise<{ candidates: number; fast: number; poor: number }> {
  const { rows } = await sql<{ candidates: string; fast: string; poor: string }>`
    select count(*) filter (where class is null) as candidates, count(*) filter (where class = 'FAST') as fast,
      count(*) filter (where class = 'POOR') as poor
    from ${sql.table(snapshotTableName(snapshotId))}`.execute(db);
  const row = rows[0]!;
  return { candidates: Number(row.candidates), fast: Number(row.fast), poor: Number(row.poor) };
}

/**
 * Appends rows for embedded materials the snapshot lacks (`materialIds`, or all when null). Each
 * new row is a candidate *as of the snapshot*, its sums taken over the snapshot's own reference
 * rows, so pending changes apply to it like to every other row. Returns the ids appended.
 */
export async function appendSnapshotRows(
  db: Db,
  modelId: string,
  spec: SnapshotSpec,
  counts: { nFast: number; nPoor: number },
  materialIds: readonly string[] | null,
): Promise<string[]> {
  const dim = sql.lit(checkDim(spec.dim));
  const table = sql.table(snapshotTableName(spec.snapshotId));
  const { rows } = await sql<{ material_id: string }>`
    insert into ${table} (material_id, class, sum_fast, sum_poor, score, vec)
    select e.material_id, null, sums.sum_fast, sums.sum_poor,
      ${scoreSql(sql`sums.sum_fast`, sql`sums.sum_poor`, counts.nFast, counts.nPoor)}, q.vec
    from embedding e
    cross join lateral (select e.vec::vector(${dim}) as vec) q
    cross join lateral (
      select coalesce(sum(${distanceSql(spec.distance, sql`q.vec`, sql`r.vec`)}) filter (where r.class = 'FAST'), 0)::float8 as sum_fast,
             coalesce(sum(${distanceSql(spec.distance, sql`q.vec`, sql`r.vec`)}) filter (where r.class = 'POOR'), 0)::float8 as sum_poor
      from ${table} r where r.class is not null and r.material_id <> e.material_id
    ) sums
    where e.model_id = ${modelId}::bigint
      ${materialIds === null ? sql`` : sql`and e.material_id = any(${[...materialIds]}::bigint[])`}
      and not exists (select 1 from ${table} x where x.material_id = e.material_id)
    returning material_id::text as material_id`.execute(db);
  return rows.map((r) => r.material_id);
}

/** Snapshot ids of every `screening_snapshot_<id>` table in the current schema. */
export async function listSnapshotTableIds(db: Db): Promise<string[]> {
  const { rows } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema() and tablename like 'screening\\_snapshot\\_%'`.execute(db);
  return rows.flatMap((r) => {
    const match = SNAPSHOT_TABLE_PATTERN.exec(r.tablename);
    return match ? [match[1]!] : [];
  });
}

export async function referencedSnapshotIds(db: Db): Promise<Set<string>> {
  const { rows } = await sql<{ id: string }>`
    select snapshot_id::text as id from screening_state
    union select previous_snapshot_id::text from screening_state where previous_snapshot_id is not null`.execute(db);
  return new Set(rows.map((r) => r.id));
}

/**
 * Drops a snapshot table unless someone still reads it or a model points at it. DROP needs an
 * ACCESS EXCLUSIVE lock, and `lock_timeout` makes it give up (returns false) rather than queue
 * readers behind it. Whether a model points at it is checked again *under that lock*: the caller's
 * list of live snapshots may predate a fold that another process committed since (which made this
 * table current); without the re-check that brand-new snapshot was dropped.
 */
export async function dropSnapshotTable(db: Db, snapshotId: string, lockTimeoutMs: number): Promise<boolean> {
  const table = snapshotTableName(snapshotId);
  try {
    return await db.transaction().execute(async (tx) => {
      await sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(lockTimeoutMs))}ms`}, true)`.execute(tx);
      const { rows } = await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(tx);
      if (!rows[0]?.found) return false; // already dropped (by another process's collector)
      await sql`lock table ${sql.table(table)} in access exclusive mode`.execute(tx);
      if ((await referencedSnapshotIds(tx)).has(snapshotId)) return false;
      await sql`drop table ${sql.table(table)}`.execute(tx);
      return true;
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '55P03') return false; // lock_not_available: a reader holds it
    if (code === '42P01') return false; // undefined_table: another collector dropped it meanwhile
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Heads and ranking pages

/** Filter on the candidate's material row (alias `m`), already validated: material columns only. */
export type CandidateFilter = Omit<MaterialRowFilter, 'currentLabelClass' | 'kind'>;

function materialJoin(filter: CandidateFilter, idColumn: string, always = false): RawBuilder<unknown> {
  const conditions = materialFilterConditions(filter, 'm');
  if (conditions.length === 0) return always ? sql`join material m on m.id = ${sql.ref(idColumn)}` : sql``;
  return sql`join material m on m.id = ${sql.ref(idColumn)} and ${sql.join(conditions, sql` and `)}`;
}

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

function pageConditions(page: PageQuery, score: string, id: string): RawBuilder<unknown> {
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
function materialSummaryColumns(alias: string): RawBuilder<unknown> {
  return sql`, ${sql.join(MATERIAL_SUMMARY_COLUMNS.map((c) => sql.ref(`${alias}.${c}`)))}`;
}

/** The candidates' material rows, when the page was asked for them. */
function materialColumns(page: PageQuery): RawBuilder<unknown> {
  return page.withMaterials ? materialSummaryColumns('m') : sql``;
}

/** Splits the material summary columns off a row (materialSummaryColumns). */
function splitMaterial<T extends Record<string, unknown>>(row: Record<string, unknown>, own: readonly (keyof T & string)[]): { own: T; material: MaterialSummaryRow } {
  const mine: Record<string, unknown> = {};
  for (const key of own) mine[key] = row[key];
  const material: Record<string, unknown> = {};
  for (const key of MATERIAL_SUMMARY_COLUMNS) material[key] = row[key];
  return { own: mine as T, material: material as unknown as MaterialSummaryRow };
}

function toRankedRows(rows: readonly Record<string, unknown>[], page: PageQuery): RankedRow[] {
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
const RANKED_COLUMNS = ['material_id', 'score', 'sum_fast', 'sum_poor'] as const;

/** A page read from a snapshot's ranking index (no pending changes). */
export async function snapshotPage(db: Db, spec: SnapshotSpec, page: PageQuery): Promise<RankedRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select s.material_id::text as material_id, s.score, s.sum_fast, s.sum_poor ${materialColumns(page)}
    from ${sql.table(snapshotTableName(spec.snapshotId))} s ${materialJoin(page.filter, 's.material_id', page.withMaterials)}
    where s.class is null ${pageConditions(page, 's.score', 's.material_id')}
    order by s.score desc, s.material_id desc limit ${page.limit}`.execute(db);
  return toRankedRows(rows, page);
}

/** A page read from a head (the exact top of the ranking with pending changes applied). */
export async function headPage(db: Db, headId: string, page: PageQuery): Promise<RankedRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select h.material_id::text as material_id, h.score, h.sum_fast, h.sum_poor ${materialColumns(page)}
    from screening_head h ${materialJoin(page.filter, 'h.material_id', page.withMaterials)}
    where h.head_id = ${headId}::bigint ${pageConditions(page, 'h.score', 'h.material_id')}
    order by h.score desc, h.material_id desc limit ${page.limit}`.execute(db);
  return toRankedRows(rows, page);
}

function scoredCandidatesSql(spec: SnapshotSpec, changes: readonly NetChange[], counts: { nFast: number; nPoor: number }) {
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

/** Writes the exact top `size` candidates into head `headId`; returns the number of rows written. */
export async function writeHeadRows(
  db: Db,
  headId: string,
  spec: SnapshotSpec,
  changes: readonly NetChange[],
  counts: { nFast: number; nPoor: number },
  size: number,
): Promise<number> {
  const result = await sql`
    insert into screening_head (head_id, material_id, score, sum_fast, sum_poor)
    select ${headId}::bigint, c.material_id, c.score, c.sum_fast, c.sum_poor
    from ${scoredCandidatesSql(spec, changes, counts)} c
    order by c.score desc, c.material_id desc limit ${size}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
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

// ---------------------------------------------------------------------------------------------
// Nearest neighbours and NEAREST(k) scores (against the current references)

export interface ModelVectorSpec {
  modelId: string;
  dim: number;
  distance: EmbeddingDistance;
}

/** A query: a stored material's embedding (by id) or an explicit vector (a pgvector literal). */
export type VectorQuery = { materialId: string } | { vec: string };

/**
 * The query vector as SQL: a literal, or a scalar subquery reading the material's embedding (an
 * InitPlan, evaluated once, which an HNSW index scan accepts as its ORDER BY argument). Reading it
 * in the same statement saves a round trip; a material without an embedding yields no rows.
 */
function queryVectorSql(model: ModelVectorSpec, query: VectorQuery): RawBuilder<unknown> {
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

export interface NeighbourRow {
  material_id: string;
  distance: number;
  /** The neighbour's material row (without structure), when asked for. */
  material?: MaterialSummaryRow;
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
const NEAREST_REFERENCE_COLUMNS = ['query_id', 'material_id', 'distance'] as const;
const NEIGHBOUR_COLUMNS = ['material_id', 'distance'] as const;

/** Σ and count of distances from `vec` to every current reference, per class (ALL mode, exact). */
export async function referenceSums(
  db: Db,
  model: ModelVectorSpec,
  vec: string,
): Promise<{ sumFast: number; nFast: number; sumPoor: number; nPoor: number }> {
  const dim = sql.lit(checkDim(model.dim));
  const d = distanceSql(model.distance, sql`r.vec::vector(${dim})`, vectorParam(vec, model.dim));
  const { rows } = await sql<Record<string, unknown>>`
    select coalesce(sum(${d}) filter (where r.class = 'FAST'), 0)::float8 as sum_fast, count(*) filter (where r.class = 'FAST') as n_fast,
           coalesce(sum(${d}) filter (where r.class = 'POOR'), 0)::float8 as sum_poor, count(*) filter (where r.class = 'POOR') as n_poor
    from screening_reference r where r.model_id = ${model.modelId}::bigint`.execute(db);
  const row = rows[0]!;
  return { sumFast: Number(row.sum_fast), nFast: Number(row.n_fast), sumPoor: Number(row.sum_poor), nPoor: Number(row.n_poor) };
}

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
        select ${distanceSql(model.distance, sql`r.vec::vector(${dim})`, sql`c.vec`)} as d
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
