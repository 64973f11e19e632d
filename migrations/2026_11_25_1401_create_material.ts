import { sql, type Kysely } from 'kysely';

/**
 * A material is either a full crystal structure (kind STRUCTURE, canonical Structure JSON in
 * `structure`) or only a composition (kind COMPOSITION, e.g. OBELiX entries without a CIF).
 * `current_label_class` caches the derived current label so label filters use an index at 1M rows;
 * it is rewritten in the same transaction as every label write.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('material')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('name', 'text')
    .addColumn('source', 'text')
    .addColumn('source_id', 'text')
    .addColumn('family', 'text')
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('STRUCTURE', 'COMPOSITION')`))
    .addColumn('formula', 'text', (col) => col.notNull())
    .addColumn('reduced_formula', 'text', (col) => col.notNull())
    .addColumn('elements', sql`text[]`, (col) => col.notNull())
    .addColumn('nelements', 'integer', (col) => col.notNull())
    .addColumn('nsites', 'integer')
    .addColumn('natoms', 'float8', (col) => col.notNull())
    .addColumn('volume_a3', 'float8')
    .addColumn('density_g_per_cm3', 'float8')
    .addColumn('is_ordered', 'boolean')
    .addColumn('structure', 'jsonb')
    .addColumn('structure_hash', 'text', (col) => col.unique())
    .addColumn('current_label_class', 'text', (col) => col.check(sql`current_label_class in ('FAST', 'POOR')`))
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // A structure row carries its structure and hash; a composition row carries neither.
    .addCheckConstraint(
      'material_kind_payload',
      sql`(kind = 'STRUCTURE' and structure is not null and structure_hash is not null and nsites is not null)
          or (kind = 'COMPOSITION' and structure is null and structure_hash is null)`,
    )
    .execute();

  await sql`create index material_elements_gin on material using gin (elements)`.execute(db);
  await db.schema.createIndex('material_reduced_formula_idx').on('material').column('reduced_formula').execute();
  await db.schema.createIndex('material_nelements_idx').on('material').column('nelements').execute();
  await db.schema
    .createIndex('material_label_class_id_idx')
    .on('material')
    .columns(['current_label_class', 'id'])
    .execute();
  // One row per record of an external dataset: makes seeding and re-imports idempotent
  // for compositions too (they have no structure hash).
  await sql`create unique index material_source_record_uq on material (source, source_id) where source_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('material').execute();
}
