/**
 * Writers of the screening store: a full re-score, folds, catching references up with labels and
 * with new embeddings, and dropping unused snapshot tables. Each runs in its own transaction, or
 * in the caller's.
 */
import { inTransaction, type Db } from '../store/database.js';
import { markAnswersUnchanged } from '../store/change-feed.js';
import {
  addSnapshotCandidates,
  appendSnapshotRows,
  applyReferenceChanges,
  countReferences,
  countSnapshotRows,
  createSnapshotFromEmbeddings,
  createSnapshotFromSnapshot,
  deleteHeadsBefore,
  deleteScreeningEvents,
  diffReferences,
  dropSnapshotTable,
  finishHeadMeta,
  indexSnapshotTable,
  insertHeadMeta,
  insertScreeningEvents,
  listScreenedModelIds,
  listSnapshotTableIds,
  lockModelScreening,
  lockScreeningEvents,
  nextSnapshotId,
  readScreeningView,
  rebuildReferences,
  referencedSnapshotIds,
  tuneHeavyTransaction,
  upsertScreeningState,
  writeHeadRows,
  type ReferenceDiffRow,
  type ScreeningView,
} from '../store/screening/index.js';
import { DROP_LOCK_TIMEOUT_MS, SCREENING_HEAD_SIZE } from './limits.js';
import { resolveScreeningModel, snapshotSpec } from './model.js';
import { currentCounts, netChanges } from './pending.js';
import type { ScreeningModel } from './types.js';

/**
 * Full re-score of a model (a new model, or a repair): rebuilds its references from the current
 * labels and writes a new snapshot in one SQL statement. Blocks the model's label writers and
 * folds while it runs. With `onlyIfMissing`, does nothing when the model already has a snapshot.
 * Returns whether it built one. Its callers are the writers — training (completeTraining),
 * installing the shipped model, activation, retirement, `ionsieve screen` — never a read.
 */
export async function rescoreModel(db: Db, modelId: string, opts: { onlyIfMissing?: boolean } = {}): Promise<boolean> {
  const model = await resolveScreeningModel(db, modelId);
  const built = await inTransaction(db, async (tx) => {
    await lockModelScreening(tx, model.id);
    await lockScreeningEvents(tx, model.id);
    const previous = await readScreeningView(tx, model.id);
    if (previous && opts.onlyIfMissing) return false;
    await tuneHeavyTransaction(tx);
    await rebuildReferences(tx, model.id);
    const refs = await countReferences(tx, model.id);
    const snapshotId = await nextSnapshotId(tx);
    const spec = { snapshotId, dim: model.dim, distance: model.distance, distanceScale: model.distanceScale };
    await createSnapshotFromEmbeddings(tx, model.id, spec, { nFast: refs.fast, nPoor: refs.poor });
    await indexSnapshotTable(tx, snapshotId);
    const rows = await countSnapshotRows(tx, snapshotId);
    await deleteScreeningEvents(tx, model.id, 'all');
    await deleteHeadsBefore(tx, model.id, null);
    await upsertScreeningState(
      tx,
      {
        model_id: model.id,
        snapshot_id: snapshotId,
        previous_snapshot_id: previous?.state.snapshot_id ?? null,
        embedding_dim: model.dim,
        distance: model.distance,
        distance_scale: model.distanceScale,
        n_fast: refs.fast,
        n_poor: refs.poor,
        n_candidates: rows.candidates,
      },
      { rebuilt: true },
    );
    return true;
  });
  if (built && !db.isTransaction) await collectSnapshotGarbage(db);
  return built;
}

/**
 * Writes the exact top of the current ranking (snapshot + every pending event) as a new head and
 * drops heads older than the previous one. Call with the model's event lock held.
 */
async function refreshHead(tx: Db, modelId: string, headSize: number = SCREENING_HEAD_SIZE): Promise<void> {
  const view = await readScreeningView(tx, modelId);
  if (!view) return;
  const changes = netChanges(view.events);
  const lastEventId = view.events.at(-1)?.id;
  if (changes.length === 0 || lastEventId === undefined) return;
  const counts = currentCounts(view.state, changes);
  const headId = await insertHeadMeta(tx, modelId, {
    snapshot_id: view.state.snapshot_id,
    last_event_id: lastEventId,
    n_fast: counts.nFast,
    n_poor: counts.nPoor,
  });
  if (counts.nFast > 0 && counts.nPoor > 0) {
    await tuneHeavyTransaction(tx);
    const written = await writeHeadRows(tx, headId, snapshotSpec(view.state), changes, counts, headSize);
    await finishHeadMeta(tx, headId, written, written < headSize);
  } else {
    // No score exists without both classes; readers report that before reading any head.
    await finishHeadMeta(tx, headId, 0, true);
  }
  await deleteHeadsBefore(tx, modelId, view.head?.head_id ?? headId);
}

/** Moves materials between the model's references and candidates, with one pending event each. Call with the event lock held. */
async function recordReferenceChanges(tx: Db, modelId: string, diff: readonly ReferenceDiffRow[]): Promise<void> {
  await applyReferenceChanges(tx, modelId, diff);
  await insertScreeningEvents(
    tx,
    modelId,
    diff.map((d) => ({ materialId: d.material_id, fromClass: d.reference_class, toClass: d.current_class, vec: d.vec })),
  );
}

export interface SyncResult {
  modelId: string;
  /** Events recorded by this call. */
  recorded: number;
  /** Events now pending (not folded). */
  pending: number;
}

/**
 * Brings the references of every screened model (or of `modelIds`) in line with the current labels:
 * records an event per changed material, updates `screening_reference`, and rewrites the head.
 * Call it in the transaction that changed the labels, with the materials whose labels changed
 * (the label writer, engine.ts, and the seed do). Without `materialIds` it compares every labelled
 * material: a repair, after labels were changed in SQL behind the service's back.
 */
export async function syncScreeningLabels(
  db: Db,
  opts: { modelIds?: readonly string[]; materialIds?: readonly string[] | null; headSize?: number } = {},
): Promise<SyncResult[]> {
  return inTransaction(db, async (tx) => {
    const modelIds = opts.modelIds ?? (await listScreenedModelIds(tx));
    const results: SyncResult[] = [];
    for (const modelId of [...modelIds].sort((a, b) => Number(BigInt(a) - BigInt(b)))) {
      await lockScreeningEvents(tx, modelId);
      const view = await readScreeningView(tx, modelId);
      if (!view) continue;
      const diff = await diffReferences(tx, modelId, opts.materialIds ?? null);
      if (diff.length > 0) {
        await recordReferenceChanges(tx, modelId, diff);
        await refreshHead(tx, modelId, opts.headSize);
      }
      results.push({ modelId, recorded: diff.length, pending: view.events.length + diff.length });
    }
    return results;
  });
}

/**
 * After embeddings were written for a screened model: appends snapshot rows for the materials the
 * snapshot lacks (`materialIds`, or every embedded material when null), records label events for
 * those that are labelled, and rewrites the head when events are pending. Returns rows appended.
 */
export async function syncScreeningEmbeddings(
  db: Db,
  modelId: string,
  materialIds: readonly string[] | null = null,
  opts: { headSize?: number } = {},
): Promise<number> {
  return inTransaction(db, async (tx) => {
    await lockModelScreening(tx, modelId);
    await lockScreeningEvents(tx, modelId);
    const view = await readScreeningView(tx, modelId);
    if (!view) return 0;
    const appended = await appendSnapshotRows(tx, modelId, snapshotSpec(view.state), { nFast: view.state.n_fast, nPoor: view.state.n_poor }, materialIds);
    await addSnapshotCandidates(tx, modelId, appended.length);
    const labelled = appended.length > 0 ? await diffReferences(tx, modelId, appended) : [];
    if (labelled.length > 0) {
      await recordReferenceChanges(tx, modelId, labelled);
    }
    if (appended.length > 0 && view.events.length + labelled.length > 0) await refreshHead(tx, modelId, opts.headSize);
    return appended.length;
  });
}

/**
 * Writes the pending events of a model into a new snapshot and swaps it in. Label writers go on
 * meanwhile (their events stay pending); readers read the old snapshot + head until the swap.
 * Returns the number of events folded.
 */
export async function foldScreening(db: Db, modelId: string): Promise<number> {
  const folded = await inTransaction(db, async (tx) => {
    await lockModelScreening(tx, modelId);
    const view = await readScreeningView(tx, modelId);
    if (!view || view.events.length === 0) return 0;
    await tuneHeavyTransaction(tx, { background: true });
    // Readers get the same answers before and after (the same expression wrote the scores they were
    // served), so cached answers stay valid.
    await markAnswersUnchanged(tx);
    const changes = netChanges(view.events);
    const counts = currentCounts(view.state, changes);
    const snapshotId = await nextSnapshotId(tx);
    await createSnapshotFromSnapshot(tx, snapshotSpec(view.state), snapshotId, changes, counts);
    await indexSnapshotTable(tx, snapshotId, { analyze: false });
    const rows = await countSnapshotRows(tx, snapshotId);
    await deleteScreeningEvents(tx, modelId, view.events.map((e) => e.id));
    await upsertScreeningState(
      tx,
      {
        ...view.state,
        snapshot_id: snapshotId,
        previous_snapshot_id: view.state.snapshot_id,
        n_fast: counts.nFast,
        n_poor: counts.nPoor,
        n_candidates: rows.candidates,
      },
      { rebuilt: false },
    );
    // Heads older than the newest are obsolete (the newest still covers events recorded meanwhile).
    if (view.head) await deleteHeadsBefore(tx, modelId, view.head.head_id);
    return view.events.length;
  });
  if (folded > 0 && !db.isTransaction) await collectSnapshotGarbage(db);
  return folded;
}

/**
 * Drops snapshot tables no model points at (neither current nor previous), skipping any that a
 * reader still holds. Returns the ids dropped.
 */
export async function collectSnapshotGarbage(db: Db): Promise<string[]> {
  const live = await referencedSnapshotIds(db);
  const dropped: string[] = [];
  for (const id of await listSnapshotTableIds(db)) {
    if (live.has(id)) continue;
    if (await dropSnapshotTable(db, id, DROP_LOCK_TIMEOUT_MS)) dropped.push(id);
  }
  return dropped;
}

