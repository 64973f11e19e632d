/** Dropping snapshot tables no model points at any more (the collector of folds and re-scores). */
import { sql } from 'kysely';
import type { Db } from '../database.js';
import { SNAPSHOT_TABLE_PATTERN, snapshotTableName } from './names.js';

/** Snapshot ids of every `screening_snapshot_<id>` table in the current schema. */
export async function listSnapshotTableIds(db: Db): Promise<string[]> {
  const { rows } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema() and tablename like 'screening\\_snapshot\\_%'`.execute(db);
  return rows.flatMap((r) => {
    const match = SNAPSHOT_TABLE_PATTERN.exec(r.tablename);
    return match ? [match[1]!] : [];
  });
}

export async function referencedSnapshotIds(db: Db): Promise<Set<string>> {
  const { rows } = await sql<{ id: string }>`
    select snapshot_id::text as id from screening_state
    union select previous_snapshot_id::text from screening_state where previous_snapshot_id is not null`.execute(db);
  return new Set(rows.map((r) => r.id));
}

/**
 * Drops a snapshot table unless someone still reads it or a model points at it. DROP needs an
 * ACCESS EXCLUSIVE lock, and `lock_timeout` makes it give up (returns false) rather than queue
 * readers behind it. Whether a model points at it is checked again *under that lock*: the caller's
 * list of live snapshots may predate a fold that another process committed since (which made this
 * table current); without the re-check that brand-new snapshot was dropped.
 */
export async function dropSnapshotTable(db: Db, snapshotId: string, lockTimeoutMs: number): Promise<boolean> {
  const table = snapshotTableName(snapshotId);
  try {
    return await db.transaction().execute(async (tx) => {
      await sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(lockTimeoutMs))}ms`}, true)`.execute(tx);
      const { rows } = await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(tx);
      if (!rows[0]?.found) return false; // already dropped (by another process's collector)
      await sql`lock table ${sql.table(table)} in access exclusive mode`.execute(tx);
      if ((await referencedSnapshotIds(tx)).has(snapshotId)) return false;
      await sql`drop table ${sql.table(table)}`.execute(tx);
      return true;
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '55P03') return false; // lock_not_available: a reader holds it
    if (code === '42P01') return false; // undefined_table: another collector dropped it meanwhile
    throw error;
  }
}

