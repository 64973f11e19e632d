import { sql, type Kysely } from 'kysely';

/**
 * Provenance of a material beyond (source, source_id):
 * - `source_url`: a link to the record at its provider (e.g. a Materials Project page), when it has one;
 * - `aliases`: other names the same structure was given — the record ids of a pool that ships its
 *   own ids beside the provider's, and the name/source of a later upload of the same structure —
 *   as a JSON array of {name, source, sourceId, createdBy, createdAt}. Kept on the row (not in a
 *   table of its own) so that every change reaches the response cache's change feed as a change of
 *   the material.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('material').addColumn('source_url', 'text').execute();
  await db.schema
    .alterTable('material')
    .addColumn('aliases', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('material').dropColumn('aliases').execute();
  await db.schema.alterTable('material').dropColumn('source_url').execute();
}
