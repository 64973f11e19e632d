import { sql, type Kysely } from 'kysely';

/**
 * Retirement of a material by a curator: hidden from rankings (`screen`), kept with its labels,
 * with who, when and why; reversible (the columns are cleared). The partial index finds the retired
 * materials without a scan (a ranking's total subtracts its retired candidates).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('material')
    .addColumn('retired_at', 'timestamptz')
    .addColumn('retired_by', 'text')
    .addColumn('retired_reason', 'text')
    .execute();
  await sql`create index material_retired_idx on material (id) where retired_at is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists material_retired_idx`.execute(db);
  await db.schema.alterTable('material').dropColumn('retired_reason').dropColumn('retired_by').dropColumn('retired_at').execute();
}
