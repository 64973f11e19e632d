import { sql, type Kysely } from 'kysely';

/**
 * Append-only label history. A retraction is a row with class null that points at the label it
 * retracts. The current label of a material is its newest non-retraction row that no retraction
 * row points at.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('label')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('material_id', 'bigint', (col) => col.notNull().references('material.id').onDelete('cascade'))
    .addColumn('class', 'text', (col) => col.check(sql`class in ('FAST', 'POOR')`))
    .addColumn('conductivity_s_per_cm', 'float8', (col) => col.check(sql`conductivity_s_per_cm >= 0`))
    .addColumn('temperature_k', 'float8', (col) => col.check(sql`temperature_k > 0`))
    .addColumn('source', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('retracts_label_id', 'bigint', (col) => col.references('label.id'))
    .addCheckConstraint('label_class_xor_retraction', sql`(class is null) = (retracts_label_id is not null)`)
    .execute();

  await db.schema.createIndex('label_material_id_idx').on('label').columns(['material_id', 'id']).execute();
  // A label is retracted at most once.
  await sql`create unique index label_retracts_label_id_uq on label (retracts_label_id) where retracts_label_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('label').execute();
}
