import { sql, type Kysely } from 'kysely';

/**
 * A job key: at most one QUEUED job per (kind, key). Producers enqueue with a key inside the
 * transaction that made the work (new materials → one embed_materials job per model), and a second
 * producer's insert does nothing instead of checking first and racing (src/jobs/queue.ts enqueueJobOnce).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('job').addColumn('job_key', 'text').execute();
  await sql`create unique index job_queued_key_uq on job (kind, job_key) where status = 'QUEUED' and job_key is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists job_queued_key_uq`.execute(db);
  await db.schema.alterTable('job').dropColumn('job_key').execute();
}
