import { sql, type Kysely } from 'kysely';

/**
 * A finer change-feed entry for the nearest FAST references of a material (`nearestFast`, on every
 * screen page): they depend on a model's FAST references only, while `screening_reference:<model>`
 * changes with every label of either class. Statements that insert, update or delete FAST rows of
 * `screening_reference` also append `screening_reference_fast` with the models touched, so a
 * cached list survives POOR labels (src/store/change-feed.ts, tag `screening_reference_fast:<id>`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function change_log_record_fast_references() returns trigger language plpgsql as $$
    declare
      ids bigint[];
    begin
      if current_setting('ionsieve.answers_unchanged', true) = 'on' then return null; end if;
      if tg_op = 'TRUNCATE' then
        insert into change_log (table_name, row_ids) values ('screening_reference_fast', null);
        return null;
      end if;
      if tg_op = 'INSERT' then
        select array_agg(distinct model_id) into ids from new_rows where class = 'FAST';
      elsif tg_op = 'DELETE' then
        select array_agg(distinct model_id) into ids from old_rows where class = 'FAST';
      else
        select array_agg(distinct model_id) into ids
          from (select model_id from new_rows where class = 'FAST' union select model_id from old_rows where class = 'FAST') r;
      end if;
      if ids is null then return null; end if;
      -- The NOTIFY comes from the statement's change_log_record trigger.
      insert into change_log (table_name, row_ids) values ('screening_reference_fast', ids);
      return null;
    end $$`.execute(db);
  await sql`create trigger screening_reference_fast_changes_ins after insert on screening_reference
    referencing new table as new_rows for each statement execute function change_log_record_fast_references()`.execute(db);
  await sql`create trigger screening_reference_fast_changes_upd after update on screening_reference
    referencing new table as new_rows old table as old_rows for each statement execute function change_log_record_fast_references()`.execute(db);
  await sql`create trigger screening_reference_fast_changes_del after delete on screening_reference
    referencing old table as old_rows for each statement execute function change_log_record_fast_references()`.execute(db);
  await sql`create trigger screening_reference_fast_changes_trunc after truncate on screening_reference
    for each statement execute function change_log_record_fast_references()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const suffix of ['ins', 'upd', 'del', 'trunc']) {
    await sql`drop trigger if exists ${sql.raw(`screening_reference_fast_changes_${suffix}`)} on screening_reference`.execute(db);
  }
  await sql`drop function if exists change_log_record_fast_references()`.execute(db);
}
