import { sql, type Kysely } from 'kysely';

/** A trained (or training) embedding model; `weights` holds the artifact once READY. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('model')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('QUEUED')
        .check(sql`status in ('QUEUED', 'TRAINING', 'READY', 'FAILED', 'CANCELLED')`),
    )
    .addColumn('is_active', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('hyperparameters', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('backend', 'text')
    .addColumn('embedding_dim', 'integer', (col) => col.check(sql`embedding_dim > 0`))
    .addColumn('distance', 'text', (col) => col.notNull().defaultTo('EUCLIDEAN').check(sql`distance in ('EUCLIDEAN', 'COSINE')`))
    .addColumn('threshold', 'float8')
    .addColumn('progress', 'jsonb')
    .addColumn('training_curve', 'jsonb')
    .addColumn('metrics', 'jsonb')
    .addColumn('label_counts', 'jsonb')
    .addColumn('label_snapshot', 'jsonb')
    .addColumn('weights', 'jsonb')
    .addColumn('error', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();

  // At most one active model.
  await sql`create unique index model_one_active_uq on model (is_active) where is_active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('model').execute();
}
