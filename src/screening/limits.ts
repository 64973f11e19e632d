/** Limits of screening: sizes, neighbour counts, index settings and timings (with why each is what it is). */

/** Candidates written into a head: ranks 1..5000 stay index reads while events are pending. */
export const SCREENING_HEAD_SIZE = 5000;
/**
 * Pending events above which a label write folds before it returns (each pending event adds one
 * distance per row to every exact pass; a running worker or server folds long before this).
 */
export const MAX_PENDING_EVENTS = 64;
/** Largest k of nearestFast, similarMaterials and NEAREST(k). */
export const MAX_NEIGHBOURS = 100;
export const DEFAULT_NEIGHBOURS = 10;
/** Largest candidate set a NEAREST(k) ranking computes per request. */
export const MAX_NEAREST_CANDIDATES = 10_000;
/** Largest page of `screen`. */
export const MAX_SCREEN_PAGE = 1000;
/**
 * Up to this many embeddings under a model, similarMaterials scans them exactly (one statement,
 * exact answers; the planner scans such a table rather than walking the HNSW index anyway); above,
 * it uses the model's HNSW index.
 */
export const EXACT_NEIGHBOURS_MAX_ROWS = 10_000;
/**
 * HNSW candidate list (pgvector's default is 40). Measured at 1 M synthetic × vector(32) on an index
 * built with ef_construction 128 (HNSW_BUILD in src/store/vector.ts; docs/BENCHMARKS.md): recall@10
 * 0.94 at 40, 0.97 at 100, 0.98 at 200; the kNN statement p95 2.6 / 7.4 / 10 ms.
 */
export const DEFAULT_EF_SEARCH = 100;
/** How long a snapshot drop waits for readers before giving up until the next fold, in ms. */
export const DROP_LOCK_TIMEOUT_MS = 200;

/**
 * A background fold waits this long for more events before it runs: a stream of labels (each
 * recording events) then costs one fold — a new snapshot table, its indexes, a drop — per
 * interval instead of one per label. Pending events cost readers little (heads hold the exact top
 * of the ranking; single scores add one distance per event) and writers fold inline beyond
 * MAX_PENDING_EVENTS.
 */
export const FOLD_COALESCE_MS = 1000;

/** Most label writes in one group transaction. */
export const MAX_LABEL_GROUP = 50;
