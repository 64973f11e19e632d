import { sql, type Kysely } from 'kysely';

/**
 * One embedding per (model, material). `vec` has no fixed dimension so models of different
 * embedding sizes share the table; each READY model gets its own partial expression HNSW index
 * on `(vec::vector(<dim>)) where model_id = <id>` (src/store/vector.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('embedding')
    .addColumn('model_id', 'bigint', (col) => col.notNull().references('model.id').onDelete('cascade'))
    .addColumn('material_id', 'bigint', (col) => col.notNull().references('material.id').onDelete('cascade'))
    .addColumn('vec', sql`vector`, (col) => col.notNull())
    .addPrimaryKeyConstraint('embedding_pk', ['model_id', 'material_id'])
    .execute();
  // The primary key covers lookups by model; deleting a material needs this one.
  await db.schema.createIndex('embedding_material_id_idx').on('embedding').column('material_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('embedding').execute();
}
