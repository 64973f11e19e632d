/**
 * Reading the change feed (`change_log`, written by triggers: migrations/2026_12_02_1200_create_change_log.ts).
 *
 * A reader keeps the snapshot (`pg_snapshot` text) of its previous read; `readChangesSince` returns
 * the rows committed since then — exactly those that snapshot could not see and the statement's
 * own snapshot can — and the new snapshot to keep. Transactions still running are in neither, so
 * their rows arrive with a later read, whatever order transactions commit in.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';

/** NOTIFY channel the feed's triggers wake at every commit that changed a tracked table. */
export const CHANGE_LOG_CHANNEL = 'ionsieve_changes';

// ---------------------------------------------------------------------------------------------
// Tags: what a cached answer or shared read depends on, in the feed's terms (`table` or `table:id`)

/** The tables (rows keyed by model id) a model's scores and rankings are computed from. */
const SCREENING_TABLES = ['screening_state', 'screening_event', 'screening_head_meta', 'screening_reference', 'embedding', 'model'] as const;

/** Tags of a screening answer under a model: any change to its scores, references or embeddings. */
export function screeningTags(modelId: string): string[] {
  return SCREENING_TABLES.map((table) => `${table}:${modelId}`);
}

/**
 * Tags of a list of nearest FAST references under a model: its FAST references (a finer entry the
 * feed's triggers write: migrations/2026_12_02_1600_change_log_fast_references.ts), the query's
 * embedding and the model's row; the neighbours' rows come with them (`material:<id>`).
 */
export function fastReferenceTags(modelId: string): string[] {
  return [`screening_reference_fast:${modelId}`, `embedding:${modelId}`, `model:${modelId}`];
}

/**
 * Tags of a similarity answer under a model: its embeddings and its row (weights, activation).
 * Labels of the neighbours come with their Material objects; a label filter adds `screeningTags`
 * and the material and label tables (which materials are unlabelled).
 */
export function similarityTags(modelId: string, labelFiltered = false): string[] {
  return labelFiltered ? [...screeningTags(modelId), 'material', 'label'] : [`embedding:${modelId}`, `model:${modelId}`];
}

export interface TableChange {
  table: string;
  /** The ids touched (material: material ids; label: material ids); null = any row of the table. */
  ids: string[] | null;
}

export interface ChangesSince {
  /** The snapshot to pass to the next read. */
  snapshot: string;
  /** Changes committed since the previous snapshot, oldest first (empty on a first read). */
  changes: TableChange[];
}

/** The current snapshot and, when `since` is given, every change committed after it. */
export async function readChangesSince(db: Db, since: string | null): Promise<ChangesSince> {
  if (since === null) {
    const { rows } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(db);
    return { snapshot: rows[0]!.snapshot, changes: [] };
  }
  const { rows } = await sql<{ snapshot: string; changes: unknown }>`
    select pg_current_snapshot()::text as snapshot,
      (select coalesce(json_agg(json_build_array(c.table_name, c.row_ids::text[]) order by c.id), '[]'::json)
        from change_log c
        where c.xid >= pg_snapshot_xmin(${since}::pg_snapshot) and not pg_visible_in_snapshot(c.xid, ${since}::pg_snapshot)
      ) as changes`.execute(db);
  const row = rows[0]!;
  const raw = (typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes) as Array<[string, string[] | null]>;
  return { snapshot: row.snapshot, changes: raw.map(([table, ids]) => ({ table, ids })) };
}

/** Deletes feed rows older than `olderThanSeconds` (readers that fell that far behind start afresh). */
export async function pruneChangeLog(db: Db, olderThanSeconds: number): Promise<number> {
  const result = await sql`delete from change_log where created_at < now() - make_interval(secs => ${olderThanSeconds})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Declares that the rest of this transaction changes how data is stored, not what any read
 * returns — a screening fold (same scores, new snapshot table) — so its statements add nothing to
 * the change feed and cached answers stay. Only for such transactions: anything else must be seen.
 */
export async function markAnswersUnchanged(tx: Db): Promise<void> {
  await sql`select set_config('ionsieve.answers_unchanged', 'on', true)`.execute(tx);
}
