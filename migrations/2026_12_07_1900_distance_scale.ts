import type { Kysely } from 'kysely';

/**
 * A model's distance scale s: its distance ratio averages the bounded distance 1 − exp(−d/s) instead
 * of d (src/scoring/score.ts). Null keeps the plain distance, as every model before this had.
 * screening_state keeps the scale its snapshot sums were built with.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('model').addColumn('distance_scale', 'float8').execute();
  await db.schema.alterTable('screening_state').addColumn('distance_scale', 'float8').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('screening_state').dropColumn('distance_scale').execute();
  await db.schema.alterTable('model').dropColumn('distance_scale').execute();
}
