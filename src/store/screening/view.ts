/** The screening state of a model: its snapshot pointer, pending events and newest head, read together. */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import type { LabelClass } from '../material.table.js';
import type { EmbeddingDistance } from '../model.table.js';
import { checkId } from './names.js';

export interface ScreeningStateRow {
  model_id: string;
  snapshot_id: string;
  previous_snapshot_id: string | null;
  embedding_dim: number;
  distance: EmbeddingDistance;
  distance_scale: number | null;
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

export function viewSelect(modelId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    select s.model_id::text as model_id, s.snapshot_id::text as snapshot_id,
      s.previous_snapshot_id::text as previous_snapshot_id, s.embedding_dim, s.distance, s.distance_scale,
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

export function toView(row: Record<string, unknown>): ScreeningView {
  const parse = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
  return {
    state: {
      model_id: String(row.model_id),
      snapshot_id: String(row.snapshot_id),
      previous_snapshot_id: row.previous_snapshot_id === null ? null : String(row.previous_snapshot_id),
      embedding_dim: Number(row.embedding_dim),
      distance: row.distance as EmbeddingDistance,
      distance_scale: row.distance_scale === null || row.distance_scale === undefined ? null : Number(row.distance_scale),
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
  distance_scale: number | null;
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
      md.distance as model_distance, md.distance_scale as model_distance_scale, md.threshold as model_threshold, v.*
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
    distance_scale: row.model_distance_scale === null ? null : Number(row.model_distance_scale),
    threshold: row.model_threshold === null ? null : Number(row.model_threshold),
  };
  return { model, view: row.model_id === null || row.model_id === undefined ? null : toView(row) };
}

export async function listScreenedModelIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('screening_state').select('model_id').orderBy('model_id').execute();
  return rows.map((r) => String(r.model_id));
}

export async function upsertScreeningState(
  db: Db,
  row: Omit<ScreeningStateRow, 'built_at' | 'folded_at'>,
  opts: { rebuilt: boolean },
): Promise<void> {
  await sql`
    insert into screening_state (model_id, snapshot_id, previous_snapshot_id, embedding_dim, distance, distance_scale, n_fast, n_poor, n_candidates)
    values (${row.model_id}::bigint, ${row.snapshot_id}::bigint, ${row.previous_snapshot_id}::bigint, ${row.embedding_dim},
      ${row.distance}, ${row.distance_scale}::float8, ${row.n_fast}, ${row.n_poor}, ${row.n_candidates})
    on conflict (model_id) do update set snapshot_id = excluded.snapshot_id,
      previous_snapshot_id = excluded.previous_snapshot_id, embedding_dim = excluded.embedding_dim,
      distance = excluded.distance, distance_scale = excluded.distance_scale, n_fast = excluded.n_fast, n_poor = excluded.n_poor,
      n_candidates = excluded.n_candidates, folded_at = now()
      ${opts.rebuilt ? sql`, built_at = now()` : sql``}`.execute(db);
}

export async function addSnapshotCandidates(db: Db, modelId: string, count: number): Promise<void> {
  if (count === 0) return;
  await sql`update screening_state set n_candidates = n_candidates + ${count} where model_id = ${modelId}::bigint`.execute(db);
}

