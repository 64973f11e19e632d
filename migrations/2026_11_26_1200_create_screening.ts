import { sql, type Kysely } from 'kysely';

/**
 * Screening state per model (src/services/screening.ts explains the design).
 *
 * - `screening_state`: which snapshot table holds a model's stored sums. Snapshot tables are
 *   created at run time as `screening_snapshot_<id>` (id from `screening_snapshot_id_seq`, which
 *   is not owned by any table, so a TRUNCATE … RESTART IDENTITY never reuses a name).
 * - `screening_reference`: the model's current references (labelled materials with an embedding),
 *   with their vectors, for exact label-filtered nearest-neighbour queries.
 * - `screening_event`: reference changes not yet folded into the snapshot (a label added,
 *   retracted or changed since the snapshot was written). Folding deletes them.
 * - `screening_head_meta` / `screening_head`: the exact top of the ranking with every pending
 *   event applied, written by the transaction that recorded the events, so first pages stay
 *   index reads while the snapshot is rewritten in the background.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence screening_snapshot_id_seq`.execute(db);

  await db.schema
    .createTable('screening_state')
    .addColumn('model_id', 'bigint', (col) => col.primaryKey().references('model.id').onDelete('cascade'))
    .addColumn('snapshot_id', 'bigint', (col) => col.notNull())
    // Kept until the next fold so a reader that looked up the pointer just before a swap still finds it.
    .addColumn('previous_snapshot_id', 'bigint')
    .addColumn('embedding_dim', 'integer', (col) => col.notNull().check(sql`embedding_dim > 0`))
    .addColumn('distance', 'text', (col) => col.notNull().check(sql`distance in ('EUCLIDEAN', 'COSINE')`))
    // References counted in the snapshot's sums, and candidate rows in it (rows appended later included).
    .addColumn('n_fast', 'integer', (col) => col.notNull())
    .addColumn('n_poor', 'integer', (col) => col.notNull())
    .addColumn('n_candidates', 'bigint', (col) => col.notNull())
    .addColumn('built_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('folded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('screening_reference')
    .addColumn('model_id', 'bigint', (col) => col.notNull().references('model.id').onDelete('cascade'))
    .addColumn('material_id', 'bigint', (col) => col.notNull().references('material.id').onDelete('cascade'))
    .addColumn('class', 'text', (col) => col.notNull().check(sql`class in ('FAST', 'POOR')`))
    .addColumn('vec', sql`vector`, (col) => col.notNull())
    .addPrimaryKeyConstraint('screening_reference_pk', ['model_id', 'material_id'])
    .execute();
  await db.schema.createIndex('screening_reference_class_idx').on('screening_reference').columns(['model_id', 'class']).execute();

  await db.schema
    .createTable('screening_event')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('model_id', 'bigint', (col) => col.notNull().references('model.id').onDelete('cascade'))
    .addColumn('material_id', 'bigint', (col) => col.notNull())
    // null = a candidate (unlabelled); FAST/POOR = a reference of that class.
    .addColumn('from_class', 'text', (col) => col.check(sql`from_class in ('FAST', 'POOR')`))
    .addColumn('to_class', 'text', (col) => col.check(sql`to_class in ('FAST', 'POOR')`))
    .addColumn('vec', sql`vector`, (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('screening_event_changes', sql`from_class is distinct from to_class`)
    .execute();
  await db.schema.createIndex('screening_event_model_idx').on('screening_event').columns(['model_id', 'id']).execute();

  await db.schema
    .createTable('screening_head_meta')
    .addColumn('head_id', 'bigserial', (col) => col.primaryKey())
    .addColumn('model_id', 'bigint', (col) => col.notNull().references('model.id').onDelete('cascade'))
    .addColumn('snapshot_id', 'bigint', (col) => col.notNull())
    // Newest event applied; a head serves readers only while no newer event exists.
    .addColumn('last_event_id', 'bigint', (col) => col.notNull())
    .addColumn('n_fast', 'integer', (col) => col.notNull())
    .addColumn('n_poor', 'integer', (col) => col.notNull())
    .addColumn('n_rows', 'integer', (col) => col.notNull())
    // True when the head holds every candidate (the ranking is shorter than the head size).
    .addColumn('complete', 'boolean', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('screening_head_meta_model_idx').on('screening_head_meta').columns(['model_id', 'head_id']).execute();

  await db.schema
    .createTable('screening_head')
    .addColumn('head_id', 'bigint', (col) => col.notNull().references('screening_head_meta.head_id').onDelete('cascade'))
    .addColumn('material_id', 'bigint', (col) => col.notNull())
    .addColumn('score', 'float8', (col) => col.notNull())
    .addColumn('sum_fast', 'float8', (col) => col.notNull())
    .addColumn('sum_poor', 'float8', (col) => col.notNull())
    .execute();
  await sql`create index screening_head_rank_idx on screening_head (head_id, score desc, material_id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Snapshot tables are not known statically: drop every one by name pattern.
  await sql`
    do $$
    declare t text;
    begin
      for t in select tablename from pg_tables where schemaname = current_schema() and tablename like 'screening\_snapshot\_%' loop
        execute format('drop table if exists %I', t);
      end loop;
    end $$`.execute(db);
  await db.schema.dropTable('screening_head').execute();
  await db.schema.dropTable('screening_head_meta').execute();
  await db.schema.dropTable('screening_event').execute();
  await db.schema.dropTable('screening_reference').execute();
  await db.schema.dropTable('screening_state').execute();
  await sql`drop sequence screening_snapshot_id_seq`.execute(db);
}
