/**
 * Screening: ranks unlabelled materials by the distance-ratio score R (src/scoring) under a model,
 * finds similar materials, and scores uploaded structures. `db` is always the first argument and
 * may be a transaction.
 *
 * Files: engine.ts (state between requests: background folds, label group commits; the one label
 * writer, with label-writes.ts), maintenance.ts (re-score, fold, sync, garbage), ranking.ts
 * (`screen`), scores.ts (single scores), neighbours.ts, model.ts/open.ts (the model of a request),
 * pending.ts (netting events), inputs.ts, limits.ts, types.ts. Its SQL: src/store/screening/, one
 * operation per file.
 *
 * ## Why the stored scores are split into a snapshot, pending events and a head
 *
 * Every candidate q keeps Σ d(q, FAST refs) and Σ d(q, POOR refs); a label adds, removes or moves
 * one term in *every* candidate's sums. Measured on the 2-core benchmark machine with 1 M
 * candidates × vector(32) (docs/BENCHMARKS.md): rewriting 1 M rows costs 5–9 s whichever way
 * (UPDATE in place, or CREATE TABLE … AS plus index build), while reading all 1 M rows and computing
 * one distance each costs ~1 s and a page from a btree costs < 1 ms. So a label write must not
 * rewrite the rows; it only has to *compute* the new ranking. The design:
 *
 * - **Snapshot** (`screening_snapshot_<id>`, see src/store/screening/index.ts): per material its sums, its status
 *   and its vector, with a (score desc, id desc) btree over the candidates. Written once, by a full
 *   re-score (one CREATE TABLE … AS over all embeddings × all references) or by a *fold*.
 * - **Events** (`screening_event`): the reference changes since the snapshot (one row per changed
 *   material: candidate → FAST, FAST → POOR, POOR → candidate, …). A label write records them.
 * - **Head** (`screening_head`): in the same transaction as the label, one read-only pass over the
 *   snapshot computes every candidate's exact current score (stored sums ± one distance per changed
 *   reference) and writes the top SCREENING_HEAD_SIZE of them. That pass is the "update every
 *   candidate's score" (~1 s at 1 M): when the label commits, the ranking readers see is exact.
 * - **Fold**, after commit and off the request path: writes a new snapshot table with the pending
 *   changes applied (the same expression, so the stored scores equal the served ones), indexes it,
 *   and swaps the state's pointer and deletes the folded events in one transaction. Readers never
 *   wait for it: they keep reading the old snapshot + head until the swap commits, and the old
 *   table is dropped only at the fold after next (and only when no reader holds it).
 *
 * Readers: no pending events → a page straight from the snapshot's btree; pending events → the
 * newest head (exact); a page beyond the head (or with a filter the head cannot fill) → one exact
 * pass over the snapshot (~1 s at 1 M, only while a fold is outstanding).
 *
 * Only unlabelled materials are candidates; labelled ones are references (a material that gets a
 * label leaves the ranking and joins the references of its class; a retraction brings it back).
 * A reference's own sums leave itself out, so `Material.screening` of a labelled material is its
 * leave-self-out score.
 *
 * Writers: label writers serialise per model on an advisory lock (references, events, heads); a
 * full re-score, a fold and appending rows for new embeddings serialise on another one. A label
 * write never waits for a fold.
 *
 * NEAREST(k) mode (means over the k nearest references of each class) is computed at request
 * time from `screening_reference` (exact kNN on the labelled rows), so a NEAREST ranking is limited
 * to MAX_NEAREST_CANDIDATES candidates per request (narrow the filter); per-material and
 * per-structure NEAREST scores have no limit.
 */
export * from './engine.js';
export { resolveReference, toCandidateFilter } from './inputs.js';
export * from './limits.js';
export * from './maintenance.js';
export { resolveScreeningModel } from './model.js';
export * from './neighbours.js';
export { currentCounts, netChanges } from './pending.js';
export * from './ranking.js';
export * from './scores.js';
export type * from './types.js';
export type { CandidateFilter, NetChange } from '../store/screening/index.js';
