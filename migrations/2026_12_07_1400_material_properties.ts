import { sql, type Kysely } from 'kysely';

/**
 * Numeric properties and the space group of a material.
 * - `properties`: {name: {value, unit, source, setBy, setAt}} as JSON on the row (like `aliases`:
 *   a property change is a change of the material in the response cache's feed). Range filters read
 *   `(properties -> name ->> 'value')::float8`; a material without the property matches no range.
 * - `space_group_number` / `space_group_symbol`: from moyo (src/structure/symmetry-ops.ts); null for
 *   a composition.
 * - `derived_version`: the version of the facts computed from the structure or formula (space group,
 *   and what later versions add); rows below the current one are recomputed by
 *   `refreshDerivedFacts` (src/services/derived.ts) when ionsieve migrates, starts or seeds — a
 *   migration must not run src/ code, whose results may change after the migration is frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('material')
    .addColumn('properties', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('space_group_number', 'integer', (col) => col.check(sql`space_group_number between 1 and 230`))
    .addColumn('space_group_symbol', 'text')
    .addColumn('derived_version', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('material_space_group_idx').on('material').column('space_group_number').execute();
  await db.schema.createIndex('material_derived_version_idx').on('material').column('derived_version').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('material_derived_version_idx').execute();
  await db.schema.dropIndex('material_space_group_idx').execute();
  await db.schema
    .alterTable('material')
    .dropColumn('derived_version')
    .dropColumn('space_group_symbol')
    .dropColumn('space_group_number')
    .dropColumn('properties')
    .execute();
}
