/**
 * Queries of the screening store, one operation per file (no logic; src/screening/README in
 * src/screening/index.ts explains the design).
 *
 * A model's stored sums live in a *snapshot table* `screening_snapshot_<id>`, one row per material
 * that has an embedding under the model:
 *
 *   material_id  bigint        the material
 *   class        text          its status when the snapshot was written: null = candidate
 *                              (unlabelled), 'FAST'/'POOR' = reference of that class
 *   sum_fast     float8        Σ d(q, h) over the snapshot's FAST references h ≠ q
 *   sum_poor     float8        Σ d(q, p) over the snapshot's POOR references p ≠ q
 *   score        float8        R(q) of a candidate at the snapshot's counts (null for references)
 *   vec          vector(dim)   the embedding, copied so that no pass over the table needs a join
 *
 * with a unique index on material_id, the ranking index (score desc, material_id desc) over the
 * candidates, and a small partial index on the references. Snapshot tables are written once
 * (CREATE TABLE … AS, then indexed) and only ever appended to (materials embedded later).
 *
 * Reference changes since the snapshot ("pending", `screening_event`) are applied on the fly by
 * `exactRowsSql`, which computes every row's current sums from its stored sums plus one distance
 * per changed reference — the same expression the next fold writes, so stored and on-the-fly
 * scores are bitwise equal.
 *
 * `db` may be a transaction. Table and index names are spliced into SQL: only integer ids reach them.
 */

export * from './events.js';
export * from './heads.js';
export * from './locks.js';
export * from './nearest-means.js';
export * from './neighbours.js';
export { snapshotTableName } from './names.js';
export * from './ranking.js';
export * from './references.js';
export { scoreSql } from './score.js';
export * from './snapshot.js';
export * from './snapshot-gc.js';
export type * from './types.js';
export * from './view.js';
