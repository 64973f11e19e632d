/** Heads (`screening_head_meta`, `screening_head`): the exact top of the ranking while events are pending. */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import { materialColumns, materialJoin, pageConditions, toRankedRows } from './fragments.js';
import { scoredCandidatesSql } from './ranking.js';
import type { NetChange, PageQuery, RankedRow, SnapshotSpec } from './types.js';
import type { HeadMetaRow } from './view.js';

export async function insertHeadMeta(db: Db, modelId: string, meta: Omit<HeadMetaRow, 'head_id' | 'n_rows' | 'complete'>): Promise<string> {
  const { rows } = await sql<{ head_id: string }>`
    insert into screening_head_meta (model_id, snapshot_id, last_event_id, n_fast, n_poor, n_rows, complete)
    values (${modelId}::bigint, ${meta.snapshot_id}::bigint, ${meta.last_event_id}::bigint, ${meta.n_fast}, ${meta.n_poor}, 0, false)
    returning head_id::text as head_id`.execute(db);
  return rows[0]!.head_id;
}

export async function finishHeadMeta(db: Db, headId: string, nRows: number, complete: boolean): Promise<void> {
  await db.updateTable('screening_head_meta').set({ n_rows: nRows, complete }).where('head_id', '=', headId).execute();
}

/** Deletes a model's heads older than `keepFromHeadId` (all of them when null). Head rows cascade. */
export async function deleteHeadsBefore(db: Db, modelId: string, keepFromHeadId: string | null): Promise<void> {
  let query = db.deleteFrom('screening_head_meta').where('model_id', '=', modelId);
  if (keepFromHeadId !== null) query = query.where('head_id', '<', keepFromHeadId);
  await query.execute();
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

