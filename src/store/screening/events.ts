/** Pending reference changes (`screening_event`): recorded by label writes, deleted by folds. */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { LabelClass } from '../material.table.js';

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

