import { sql, type Kysely } from 'kysely';

/**
 * API tokens (src/services/tokens.ts). Only the SHA-256 of a secret is stored: secrets are 256 random
 * bits, so a slow password hash (bcrypt, argon2) would add nothing against guessing and would cost
 * every request; a fast hash keeps lookups a unique-index read while a leaked table reveals no token.
 * Revocation sets `revoked_at` (rows stay, so `created_by` on labels and models still names a token).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_token')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull().check(sql`char_length(name) between 1 and 128`))
    .addColumn('role', 'text', (col) => col.notNull().check(sql`role in ('reader', 'curator', 'admin')`))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique().check(sql`token_hash ~ '^[0-9a-f]{64}$'`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'text')
    // Updated at most once a minute per token, so reads do not become writes.
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  // The name is what labels and models record as `created_by`: unique among live tokens.
  await sql`create unique index api_token_live_name_uq on api_token (name) where revoked_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_token').execute();
}
