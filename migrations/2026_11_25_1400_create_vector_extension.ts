import { sql, type Kysely } from 'kysely';

// pgvector provides the `vector` type and HNSW indexes for model embeddings.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists vector`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop extension if exists vector`.execute(db);
}
