/**
 * Queries on `embedding` (no logic). Vectors travel as pgvector text literals ('[x1,x2,…]',
 * see vector.ts). `db` may be a transaction.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import type { NewEmbeddingRow } from './embedding.table.js';

/**
 * Rows per INSERT statement. Each row is three bind parameters; 500 rows keep a statement far
 * below PostgreSQL's 65,535-parameter limit and a 512-dimensional literal batch under ~5 MB.
 */
export const EMBEDDING_INSERT_CHUNK = 500;

/**
 * Multi-row inserts in chunks; a (model, material) pair already stored is left as it is (two
 * embedding jobs racing write the same vector). Returns the number of rows written.
 */
export async function insertEmbeddingRows(db: Db, rows: readonly NewEmbeddingRow[]): Promise<number> {
  let written = 0;
  for (let start = 0; start < rows.length; start += EMBEDDING_INSERT_CHUNK) {
    const chunk = rows.slice(start, start + EMBEDDING_INSERT_CHUNK);
    const result = await db
      .insertInto('embedding')
      .values(chunk.map((r) => ({ model_id: r.model_id, material_id: r.material_id, vec: sql`${r.vec}::vector` as unknown as string })))
      .onConflict((oc) => oc.columns(['model_id', 'material_id']).doNothing())
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

/** Stages a new model's embeddings (embedding_stage; one statement). Returns the rows written. */
export async function insertStagedEmbeddingRows(db: Db, rows: readonly NewEmbeddingRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto('embedding_stage')
    .values(rows.map((r) => ({ model_id: r.model_id, material_id: r.material_id, vec: sql`${r.vec}::vector` as unknown as string })))
    .onConflict((oc) => oc.columns(['model_id', 'material_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Moves a model's staged embeddings into `embedding` (typed rows: no literal is parsed again) and
 * empties its stage. Call inside the transaction that publishes the model. Returns the rows moved.
 */
export async function publishStagedEmbeddings(db: Db, modelId: string): Promise<number> {
  const { rows } = await sql<{ moved: string }>`
    with moved as (delete from embedding_stage where model_id = ${modelId} returning model_id, material_id, vec),
      inserted as (insert into embedding (model_id, material_id, vec) select model_id, material_id, vec from moved
        on conflict (model_id, material_id) do nothing returning 1)
    select count(*)::text as moved from inserted`.execute(db);
  return Number(rows[0]?.moved ?? 0);
}

/** Drops whatever is staged for a model (an earlier attempt's, a cancelled or failed model's). */
export async function discardStagedEmbeddings(db: Db, modelId: string): Promise<void> {
  await db.deleteFrom('embedding_stage').where('model_id', '=', modelId).execute();
}

/** Rows staged for a model (embedding_stage). */
export function countStagedEmbeddings(db: Db, modelId: string): Promise<number> {
  return countModelEmbeddings(db, modelId, 'embedding_stage');
}

export async function deleteModelEmbeddings(db: Db, modelId: string): Promise<void> {
  await db.deleteFrom('embedding').where('model_id', '=', modelId).execute();
}

export async function countModelEmbeddings(db: Db, modelId: string, table: 'embedding' | 'embedding_stage' = 'embedding'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('model_id', '=', modelId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function findEmbeddingRows(db: Db, modelId: string, materialIds: readonly string[]): Promise<{ material_id: string; vec: string }[]> {
  if (materialIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('embedding')
    .select(['material_id', sql<string>`vec::text`.as('vec')])
    .where('model_id', '=', modelId)
    .where('material_id', 'in', [...materialIds])
    .execute();
}

export interface EmbeddableMaterialRow {
  id: string;
  /** Null for a COMPOSITION material (listed with `compositions`). */
  structure: unknown;
  formula: string;
}

/**
 * A keyset page (by id) of STRUCTURE materials (and COMPOSITION materials with `compositions`:
 * models with a composition pathway embed those too); with `missingFor`, only those without an
 * embedding for that model.
 */
export async function listEmbeddableMaterials(
  db: Db,
  opts: { afterId: string | null; limit: number; missingFor?: string; compositions?: boolean },
): Promise<EmbeddableMaterialRow[]> {
  let query = db.selectFrom('material as m').select(['m.id', 'm.structure', 'm.formula']);
  if (!opts.compositions) query = query.where('m.kind', '=', 'STRUCTURE').where('m.structure', 'is not', null);
  if (opts.afterId !== null) query = query.where('m.id', '>', opts.afterId);
  if (opts.missingFor !== undefined) {
    const modelId = opts.missingFor;
    query = query.where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('embedding as e').select('e.material_id').whereRef('e.material_id', '=', 'm.id').where('e.model_id', '=', modelId),
        ),
      ),
    );
  }
  const rows = await query.orderBy('m.id', 'asc').limit(opts.limit).execute();
  return rows.map((r) => ({ id: String(r.id), structure: r.structure, formula: r.formula }));
}

export async function countStructureMaterials(db: Db): Promise<number> {
  const row = await db
    .selectFrom('material')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('kind', '=', 'STRUCTURE')
    .where('structure', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Material ids by (source, source_id) (seeded datasets are keyed that way). */
export async function findMaterialIdsBySourceIds(db: Db, sourceIds: readonly string[]): Promise<Map<string, string>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await db.selectFrom('material').select(['id', 'source_id']).where('source_id', 'in', [...sourceIds]).execute();
  return new Map(rows.map((r) => [r.source_id!, String(r.id)]));
}

/** Whether the index named `name` exists (tests, health checks). */
export async function indexExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{ exists: boolean }>`select to_regclass(${name}) is not null as exists`.execute(db);
  return Boolean(rows[0]?.exists);
}
