/** Advisory locks and session settings of screening writers (transaction-scoped). */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import { checkId } from './names.js';

/** Two-key advisory locks: (namespace, model id). Namespaces are arbitrary constants of this module. */
const MODEL_LOCK_NAMESPACE = 0x5c4e;
const EVENT_LOCK_NAMESPACE = 0x5c4f;
function lockKey(modelId: string): RawBuilder<number> {
  // int4 key: model ids beyond 2^31 share keys, which only serialises more than needed.
  return sql<number>`(${checkId(modelId, 'model id')}::bigint % 2147483647)::int4`;
}

/**
 * Serialises writers of a model's snapshot tables and state (full re-score, fold, appending rows
 * for new embeddings) until the end of the transaction. Label writers do not take it.
 */
export async function lockModelScreening(db: Db, modelId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(MODEL_LOCK_NAMESPACE)}, ${lockKey(modelId)})`.execute(db);
}

/** Serialises writers of a model's references, events and heads until the end of the transaction. */
export async function lockScreeningEvents(db: Db, modelId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(EVENT_LOCK_NAMESPACE)}, ${lockKey(modelId)})`.execute(db);
}

/**
 * Session settings for the heavy statements of this transaction: JIT compilation costs ~0.8 s per
 * statement and buys nothing on a distance expression; sorts and index builds get more memory.
 */
export async function tuneHeavyTransaction(db: Db, opts: { maintenanceWorkMem?: string; background?: boolean } = {}): Promise<void> {
  await sql`select set_config('jit', 'off', true), set_config('work_mem', '64MB', true),
    set_config('maintenance_work_mem', ${opts.maintenanceWorkMem ?? '256MB'}, true)`.execute(db);
  // Background work (a fold, while readers are served) stays on one core: parallel workers for its
  // CREATE TABLE AS and index builds would take every core and the readers' latency with them.
  if (opts.background) {
    await sql`select set_config('max_parallel_workers_per_gather', '0', true), set_config('max_parallel_maintenance_workers', '0', true)`.execute(db);
  }
}

