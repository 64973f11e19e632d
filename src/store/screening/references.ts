/** A model's references (`screening_reference`): its labelled materials that have an embedding. */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { LabelClass } from '../material.table.js';

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

