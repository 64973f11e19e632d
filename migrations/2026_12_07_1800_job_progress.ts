import type { Kysely } from 'kysely';

/**
 * A job's progress and resumable state (jsonb), written by its task while it runs: an OPTIMADE
 * import keeps its counts and the URL of the next page here, in the same transaction as the page's
 * materials, so a retried or resumed job continues where the last committed page ended.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job').addColumn('progress', 'jsonb').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job').dropColumn('progress').execute();
}
