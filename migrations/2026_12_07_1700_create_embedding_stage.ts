import { sql, type Kysely } from 'kysely';

/**
 * Where a trainer stages a new model's embeddings before the model is published: written in short
 * batches (each its own statement) while the model is still TRAINING, then moved into `embedding`
 * by one INSERT … SELECT in the transaction that makes the model READY. On the embedded default
 * (PGlite: one connection, on the serving thread) the old way, every vector literal parsed inside
 * that one transaction, held every read for 0.3–0.9 s; the move of typed rows takes a tenth of it.
 * No reader looks here, so the change feed does not track it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('embedding_stage')
    .addColumn('model_id', 'bigint', (col) => col.notNull().references('model.id').onDelete('cascade'))
    .addColumn('material_id', 'bigint', (col) => col.notNull().references('material.id').onDelete('cascade'))
    .addColumn('vec', sql`vector`, (col) => col.notNull())
    .addPrimaryKeyConstraint('embedding_stage_pk', ['model_id', 'material_id'])
    .execute();
  // Deleting a material (cascade) needs it.
  await db.schema.createIndex('embedding_stage_material_id_idx').on('embedding_stage').column('material_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('embedding_stage').execute();
}
