import { sql, type Kysely } from 'kysely';

/**
 * The change feed behind the API's response cache (src/graphql/response-cache.ts).
 *
 * Every statement that changes a table the API reads appends one row to `change_log`, from a
 * statement-level trigger in the writer's own transaction, so the row commits (or rolls back) with
 * the change and no write path can forget it. A row names the table and the ids it touched — a
 * material's id, a label's material, a model's id, an embedding's or a screening row's model (at
 * most CHANGE_LOG_MAX_IDS; null means "any row of the table"); job changes are table-level.
 *
 * `xid` is the writer's transaction id: a reader remembers the snapshot of its last read of the
 * feed and next asks for the rows that snapshot could not see (`pg_visible_in_snapshot`). That is
 * exact whatever order transactions commit in, and needs no lock: a serial id would not be (a
 * transaction that took id 5 may commit after one that took id 6).
 *
 * Old rows are deleted by the API processes (src/store/change-feed.ts), never by readers' needs.
 */
const CHANGE_LOG_MAX_IDS = 1000;
/** NOTIFY channel of the feed (src/store/change-feed.ts CHANGE_LOG_CHANNEL; a migration must not import src/). */
const CHANGE_LOG_CHANNEL = 'ionsieve_changes';

/** Tables whose changes the API's cached answers depend on, and the column of the ids recorded. */
const TRACKED: ReadonlyArray<{ table: string; idColumn: string | null }> = [
  { table: 'material', idColumn: 'id' },
  { table: 'label', idColumn: 'material_id' },
  { table: 'model', idColumn: 'id' },
  { table: 'embedding', idColumn: 'model_id' },
  { table: 'job', idColumn: null },
  { table: 'screening_state', idColumn: 'model_id' },
  { table: 'screening_reference', idColumn: 'model_id' },
  { table: 'screening_event', idColumn: 'model_id' },
  { table: 'screening_head_meta', idColumn: 'model_id' },
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('change_log')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('xid', sql`xid8`, (col) => col.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('table_name', 'text', (col) => col.notNull())
    .addColumn('row_ids', sql`bigint[]`)
    // The statement's wall-clock time, not the transaction's start (pruning goes by it).
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await db.schema.createIndex('change_log_xid_idx').on('change_log').column('xid').execute();
  await db.schema.createIndex('change_log_created_at_idx').on('change_log').column('created_at').execute();

  // One function per id column; TG_ARGV[0] names it ('' = table-level only). The transition tables
  // hold the statement's rows: new ones for INSERT/UPDATE, old ones for UPDATE/DELETE.
  await sql`
    create function change_log_record() returns trigger language plpgsql as $$
    declare
      ids bigint[];
      limited text := ' limit ${sql.raw(String(CHANGE_LOG_MAX_IDS + 1))}';
    begin
      -- A transaction that only re-stores data without changing any answer (a screening fold) says so.
      if current_setting('ionsieve.answers_unchanged', true) = 'on' then return null; end if;
      if tg_op = 'TRUNCATE' then
        insert into change_log (table_name, row_ids) values (tg_table_name, null);
        perform pg_notify('${sql.raw(CHANGE_LOG_CHANNEL)}', '');
        return null;
      end if;
      if tg_argv[0] = '' then
        -- Table-level: record the statement only if it changed a row.
        if tg_op = 'DELETE' then perform 1 from old_rows limit 1; else perform 1 from new_rows limit 1; end if;
        if not found then return null; end if;
      else
        if tg_op = 'INSERT' then
          execute format('select array_agg(distinct x) from (select %I as x from new_rows%s) r', tg_argv[0], limited) into ids;
        elsif tg_op = 'DELETE' then
          execute format('select array_agg(distinct x) from (select %I as x from old_rows%s) r', tg_argv[0], limited) into ids;
        else
          execute format('select array_agg(distinct x) from (select %I as x from new_rows union select %I from old_rows%s) r',
            tg_argv[0], tg_argv[0], limited) into ids;
        end if;
        if ids is null then return null; end if;
        -- Too many to list: the reader treats it as a change of every row.
        if cardinality(ids) > ${sql.raw(String(CHANGE_LOG_MAX_IDS))} then ids := null; end if;
      end if;
      insert into change_log (table_name, row_ids) values (tg_table_name, ids);
      -- A wake-up at commit for the API processes (identical notifications of a transaction fold into one).
      perform pg_notify('${sql.raw(CHANGE_LOG_CHANNEL)}', '');
      return null;
    end $$`.execute(db);

  for (const { table, idColumn } of TRACKED) {
    const arg = sql.lit(idColumn ?? '');
    // Transition tables cannot be shared by one trigger over several events: one trigger per event.
    await sql`create trigger ${sql.raw(`${table}_changes_ins`)} after insert on ${sql.table(table)}
      referencing new table as new_rows for each statement execute function change_log_record(${arg})`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_changes_upd`)} after update on ${sql.table(table)}
      referencing new table as new_rows old table as old_rows for each statement execute function change_log_record(${arg})`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_changes_del`)} after delete on ${sql.table(table)}
      referencing old table as old_rows for each statement execute function change_log_record(${arg})`.execute(db);
    await sql`create trigger ${sql.raw(`${table}_changes_trunc`)} after truncate on ${sql.table(table)}
      for each statement execute function change_log_record('')`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const { table } of TRACKED) {
    for (const suffix of ['ins', 'upd', 'del', 'trunc']) {
      await sql`drop trigger if exists ${sql.raw(`${table}_changes_${suffix}`)} on ${sql.table(table)}`.execute(db);
    }
  }
  await sql`drop function if exists change_log_record()`.execute(db);
  await db.schema.dropTable('change_log').execute();
}
