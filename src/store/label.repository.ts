/**
 * Queries on `label` (no logic). The current label of a material is its newest (highest id)
 * non-retraction row that no retraction row points at; `material.current_label_class` caches its
 * class and is refreshed by refreshCurrentLabelClass in the same transaction as every label write.
 */
import { sql, type ExpressionBuilder } from 'kysely';
import type { Database, Db } from './database.js';
import type { LabelRow, NewLabelRow } from './label.table.js';

/** Who retracted a label, when and why (from its retraction row). */
export interface RetractionRow {
  reason: string | null;
  created_by: string | null;
  created_at: string | Date;
}

export type LabelRowWithRetracted = LabelRow & { retracted: boolean; retraction?: RetractionRow | null };

function retractedFlag(eb: ExpressionBuilder<Database, 'label'>) {
  return eb
    .exists(eb.selectFrom('label as r').select('r.id').whereRef('r.retracts_label_id', '=', 'label.id'))
    .$castTo<boolean>()
    .as('retracted');
}

/** The retraction row of a label as JSON (one at most: a second retraction is refused), or null. */
function retractionOf() {
  return sql<RetractionRow | null>`(select jsonb_build_object('reason', r.reason, 'created_by', r.created_by, 'created_at', r.created_at)
    from label r where r.retracts_label_id = label.id order by r.id limit 1)`.as('retraction');
}

function labelsWithRetracted(db: Db) {
  return db.selectFrom('label').selectAll('label').select(retractedFlag).select(retractionOf());
}

export function insertLabelRows(db: Db, rows: readonly NewLabelRow[]): Promise<LabelRow[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return db.insertInto('label').values([...rows]).returningAll().execute();
}

export function findLabelRowsByIds(db: Db, ids: readonly string[]): Promise<LabelRowWithRetracted[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return labelsWithRetracted(db).where('label.id', 'in', [...ids]).execute();
}

/** Whole histories including retraction rows (the audit trail: who retracted, why), newest first within each material. */
export function findLabelRowsByMaterialIds(db: Db, materialIds: readonly string[]): Promise<LabelRowWithRetracted[]> {
  if (materialIds.length === 0) return Promise.resolve([]);
  return labelsWithRetracted(db)
    .where('label.material_id', 'in', [...materialIds])
    .orderBy('label.material_id')
    .orderBy('label.id', 'desc')
    .execute();
}

/** At most one row per material: its current label. */
export function findCurrentLabelRows(db: Db, materialIds: readonly string[]): Promise<LabelRowWithRetracted[]> {
  if (materialIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('label')
    .distinctOn('label.material_id')
    .selectAll('label')
    .select(sql<boolean>`false`.as('retracted'))
    .where('label.material_id', 'in', [...materialIds])
    .where('label.class', 'is not', null)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('label as r').select('r.id').whereRef('r.retracts_label_id', '=', 'label.id'))),
    )
    .orderBy('label.material_id')
    .orderBy('label.id', 'desc')
    .execute();
}

/** Keyset page of one material's labels (not retraction rows), newest first: rows with id < beforeId. */
export function listLabelRows(
  db: Db,
  materialId: string,
  beforeId: string | null,
  limit: number,
): Promise<LabelRowWithRetracted[]> {
  // Retraction rows are events on another label, not labels: they never appear in a page.
  let query = labelsWithRetracted(db).where('label.material_id', '=', materialId).where('label.class', 'is not', null);
  if (beforeId !== null) query = query.where('label.id', '<', beforeId);
  return query.orderBy('label.id', 'desc').limit(limit).execute();
}

export async function countLabelRows(db: Db, materialId: string): Promise<number> {
  const row = await db
    .selectFrom('label')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('material_id', '=', materialId)
    .where('class', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Recomputes the `current_label_class` cache of these materials from their label history. */
export async function refreshCurrentLabelClass(db: Db, materialIds: readonly string[]): Promise<void> {
  if (materialIds.length === 0) return;
  await db
    .updateTable('material as m')
    .set((eb) => ({
      current_label_class: eb
        .selectFrom('label as l')
        .select('l.class')
        .whereRef('l.material_id', '=', 'm.id')
        .where('l.class', 'is not', null)
        .where((inner) =>
          inner.not(
            inner.exists(inner.selectFrom('label as r').select('r.id').whereRef('r.retracts_label_id', '=', 'l.id')),
          ),
        )
        .orderBy('l.id', 'desc')
        .limit(1),
    }))
    .where('m.id', 'in', [...materialIds])
    .execute();
}
