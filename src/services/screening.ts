/**
 * Screening: ranks unlabelled materials by the distance-ratio score R (src/scoring) under a model,
 * finds similar materials, and scores uploaded structures. `db` is always the first argument and
 * may be a transaction.
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
 * - **Snapshot** (`screening_snapshot_<id>`, see the repository): per material its sums, its status
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
import { BadInputError, NotFoundError, ModelNotReadyError } from '../errors.js';
import { DEFAULT_THRESHOLD, predictClass, ratioScore, type LabelClass } from '../scoring/index.js';
import { inTransaction, type Db } from '../store/database.js';
import {
  addSnapshotCandidates,
  appendSnapshotRows,
  applyReferenceChanges,
  countCandidates,
  countNearestCandidates,
  countReferences,
  countSnapshotRows,
  countUnlabelledMaterials,
  createSnapshotFromEmbeddings,
  createSnapshotFromSnapshot,
  deleteHeadsBefore,
  deleteScreeningEvents,
  diffReferences,
  dropSnapshotTable,
  embeddingOf,
  exactMaterialRows,
  exactPage,
  finishHeadMeta,
  headPage,
  indexSnapshotTable,
  insertHeadMeta,
  insertScreeningEvents,
  listScreenedModelIds,
  listSnapshotTableIds,
  lockModelScreening,
  lockScreeningEvents,
  nearestEmbeddings,
  nearestMeansOfMaterials,
  nearestPage,
  nearestReferences,
  nearestReferencesOfMaterials,
  nextSnapshotId,
  readModelAndView,
  readScreeningView,
  rebuildReferences,
  referenceSums,
  referencedSnapshotIds,
  snapshotPage,
  tuneHeavyTransaction,
  upsertScreeningState,
  writeHeadRows,
  type CandidateFilter,
  type ModelVectorSpec,
  type NetChange,
  type PageQuery,
  type RankedRow,
  type ScreeningEventRow,
  type ScreeningModelRow,
  type ScreeningStateRow,
  type ScreeningView,
  type SnapshotSpec,
  type VectorQuery,
} from '../store/screening/index.js';
import { fastReferenceTags, markAnswersUnchanged, screeningTags, similarityTags } from '../store/change-feed.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import { toVectorLiteral } from '../store/vector.js';
import { parseComposition, parseStructure, type StructureFormat } from '../structure/index.js';
import { embedFormulas, embedStructuresWithModel, getServingModel } from './embeddings.js';
import { readsCompositions } from '../model/hyperparameters.js';
import {
  getMaterial,
  labelMaterial,
  materialRowToRecord,
  retractLabel,
  toRowFilter,
  type LabelMaterialInput,
  type LabelRecord,
  type MaterialFilter,
  type MaterialRecord,
} from './materials.js';
import { checkModelId } from './models.js';

// ---------------------------------------------------------------------------------------------
// Limits

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
const DROP_LOCK_TIMEOUT_MS = 200;

// ---------------------------------------------------------------------------------------------
// Records

export type ReferenceMode = 'ALL' | 'NEAREST';

export interface ReferenceSpec {
  mode: ReferenceMode;
  /** NEAREST only: references of each class averaged over, 1..MAX_NEIGHBOURS. */
  k?: number | null;
}

/** A READY model as screening needs it. */
export interface ScreeningModel {
  id: string;
  dim: number;
  distance: 'EUCLIDEAN' | 'COSINE';
  /** Decision threshold on R: the calibrated one, else 1. */
  threshold: number;
}

export interface ScreeningScore {
  /** R = meanDistanceToPoor / meanDistanceToFast; higher = more conductor-like. +Infinity is possible. */
  score: number;
  predictedClass: LabelClass;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
}

export interface ScreeningCandidate extends ScreeningScore {
  materialId: string;
  /** The candidate material, read with the page (absent in NEAREST mode: load it by id). */
  material?: MaterialRecord;
  /** 1-based position in the ranking (with the filter and minScore applied). */
  rank: number;
}

export interface ScreeningPage {
  modelId: string;
  /** The model ranked (nested fields of the page use it without looking it up again). */
  model: ScreeningModel;
  threshold: number;
  reference: Required<ReferenceSpec>;
  items: ScreeningCandidate[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
  /** Candidates matching the filter and minScore, over all pages (computed on demand). */
  totalCount(): Promise<number>;
  /** Unlabelled materials matching the filter that have no embedding under the model (on demand). */
  leftOut(): Promise<number>;
}

/** A score that is not stored: a material's (Material.screening) or an uploaded structure's. */
export interface ScreeningResult extends ScreeningScore {
  modelId: string;
  threshold: number;
  reference: Required<ReferenceSpec>;
  /** The stored material scored, or null for an uploaded structure. */
  materialId: string | null;
  /** The embedding scored (pgvector literal) of an uploaded structure, for its nearestFast; null for a stored material. */
  vector: string | null;
}

export interface Neighbor {
  rank: number;
  distance: number;
  materialId: string;
  /** The neighbour material (without its structure) when the kNN statement read it. */
  material?: MaterialRecord;
}

export interface StructureText {
  format: StructureFormat;
  text: string;
}

export interface StructureLimits {
  maxSites: number;
  maxTextBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Input checks

function checkK(k: unknown, field: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_NEIGHBOURS) {
    throw new BadInputError(`${field} must be an integer in 1..${MAX_NEIGHBOURS}, got ${String(k)}`, { field });
  }
  return k;
}

function checkMaterialId(id: unknown): string {
  const text = typeof id === 'number' || typeof id === 'bigint' ? String(id) : typeof id === 'string' ? id.trim() : '';
  if (!/^[1-9]\d{0,17}$/.test(text)) throw new NotFoundError('material', String(id));
  return text;
}

export function resolveReference(reference: ReferenceSpec | null | undefined): Required<ReferenceSpec> {
  const mode = reference?.mode ?? 'ALL';
  if (mode === 'ALL') {
    if (reference?.k !== undefined && reference.k !== null) throw new BadInputError('reference.k applies to mode NEAREST only', { field: 'reference.k' });
    return { mode, k: null };
  }
  if (mode !== 'NEAREST') throw new BadInputError(`unknown reference mode ${String(mode)}`, { field: 'reference.mode' });
  if (reference?.k === undefined || reference.k === null) throw new BadInputError('reference mode NEAREST needs k', { field: 'reference.k' });
  return { mode, k: checkK(reference.k, 'reference.k') };
}

/**
 * The material filter of a screen, checked (materials.ts `toRowFilter`, the one filter check).
 * Only unlabelled materials are candidates, so `label` may only be UNLABELLED.
 */
export function toCandidateFilter(filter: MaterialFilter | null | undefined): CandidateFilter {
  if (!filter) return {};
  if (filter.label !== undefined && filter.label !== null && filter.label !== 'UNLABELLED') {
    throw new BadInputError('screen ranks unlabelled materials only: filter.label may only be UNLABELLED', { field: 'filter.label' });
  }
  const { currentLabelClass: _label, kind: _kind, ...columns } = toRowFilter(filter, 'filter.');
  // Only the keys given: an empty object means "no filter" to the page code.
  return Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined)) as CandidateFilter;
}

function checkMinScore(minScore: number | null | undefined): number | null {
  if (minScore === undefined || minScore === null) return null;
  if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw new BadInputError('minScore must be a number', { field: 'minScore' });
  return minScore;
}

// ---------------------------------------------------------------------------------------------
// Models

function toScreeningModel(row: ScreeningModelRow): ScreeningModel {
  if (row.status !== 'READY') throw new ModelNotReadyError(row.id, row.status);
  if (!row.embedding_dim) throw new ModelNotReadyError(row.id, 'without an embedding dimension');
  return { id: row.id, dim: row.embedding_dim, distance: row.distance, threshold: row.threshold ?? DEFAULT_THRESHOLD };
}

/** A checked model id, or null for the active model. */
function modelIdOrActive(modelId: string | null | undefined): string | null {
  return modelId === undefined || modelId === null ? null : checkModelId(modelId);
}

/**
 * The model named (or the active one) with its screening view, in one round trip — or none, when a
 * shared read since the last change to the model's screening tables has it.
 */
async function loadScreening(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; view: ScreeningView | null }> {
  const id = modelIdOrActive(modelId);
  const found = await reads.read(
    `screening:${id ?? 'active'}`,
    () => readModelAndView(db, id),
    // Activating another model updates this one's row too (is_active); no model found: any model row.
    (f) => (f.model ? screeningTags(f.model.id) : ['model']),
  );
  if (!found.model) throw id === null ? new NotFoundError('active model', 'none') : new NotFoundError('model', id);
  return { model: toScreeningModel(found.model), view: found.view };
}

/** The model named, or the active one; it must be READY. */
export async function resolveScreeningModel(db: Db, modelId: string | null | undefined): Promise<ScreeningModel> {
  return (await loadScreening(db, modelId)).model;
}

/**
 * What similarity searches need of a model: the model and how many materials it embedded (null
 * before its screening state exists). Shared apart from the view: a label changes the view, not this.
 */
async function loadSimilarity(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; embedded: number | null }> {
  const id = modelIdOrActive(modelId);
  return reads.read(
    `similarity:${id ?? 'active'}`,
    async () => {
      const { model, view } = await loadScreening(db, id);
      // The snapshot holds one row per embedded material; a label moves rows between classes, a fold keeps them.
      return { model, embedded: view ? view.state.n_candidates + view.state.n_fast + view.state.n_poor : null };
    },
    (value) => [...similarityTags(value.model.id), `screening_state:${value.model.id}`],
  );
}

/** The model and its screening view, building the view first if the model has none yet. */
async function openScreening(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; view: ScreeningView }> {
  const { model, view } = await loadScreening(db, modelId, reads);
  return { model, view: view ?? (await ensureScreeningState(db, model)) };
}

function vectorSpec(model: ScreeningModel): ModelVectorSpec {
  return { modelId: model.id, dim: model.dim, distance: model.distance };
}

function snapshotSpec(state: ScreeningStateRow): SnapshotSpec {
  return { snapshotId: state.snapshot_id, dim: state.embedding_dim, distance: state.distance };
}

// ---------------------------------------------------------------------------------------------
// Pending changes

/**
 * Net reference changes of the pending events, per material: its status before the first event
 * (= in the snapshot) and after the last; materials back where they started are dropped.
 */
export function netChanges(events: readonly ScreeningEventRow[]): NetChange[] {
  const byMaterial = new Map<string, NetChange>();
  for (const event of events) {
    const seen = byMaterial.get(event.materialId);
    if (seen) {
      seen.toClass = event.toClass;
      seen.vec = event.vec;
    } else {
      byMaterial.set(event.materialId, { materialId: event.materialId, fromClass: event.fromClass, toClass: event.toClass, vec: event.vec });
    }
  }
  return [...byMaterial.values()].filter((c) => c.fromClass !== c.toClass);
}

/** Reference counts after the changes. */
export function currentCounts(state: Pick<ScreeningStateRow, 'n_fast' | 'n_poor'>, changes: readonly NetChange[]) {
  let nFast = state.n_fast;
  let nPoor = state.n_poor;
  for (const c of changes) {
    if (c.fromClass === 'FAST') nFast--;
    if (c.fromClass === 'POOR') nPoor--;
    if (c.toClass === 'FAST') nFast++;
    if (c.toClass === 'POOR') nPoor++;
  }
  return { nFast, nPoor };
}

function requireReferences(model: ScreeningModel, counts: { nFast: number; nPoor: number }): void {
  if (counts.nFast < 1 || counts.nPoor < 1) {
    throw new BadInputError(
      `model ${model.id} has ${counts.nFast} FAST and ${counts.nPoor} POOR references: screening needs at least one of each ` +
        '(label materials that have an embedding under the model)',
      { modelId: model.id, fast: counts.nFast, poor: counts.nPoor },
    );
  }
}

/** PostgreSQL's undefined_table: a snapshot dropped between reading its pointer and reading it. */
function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: string })?.code === '42P01';
}

// ---------------------------------------------------------------------------------------------
// Building, folding, syncing

/**
 * Full re-score of a model (a new model, or a repair): rebuilds its references from the current
 * labels and writes a new snapshot in one SQL statement. Blocks the model's label writers and
 * folds while it runs. With `onlyIfMissing`, does nothing when the model already has a snapshot.
 * Returns whether it built one.
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
    const spec = { snapshotId, dim: model.dim, distance: model.distance };
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

/** Builds the model's snapshot if it has none (the first screen of a model nobody re-scored). */
export async function ensureScreeningState(db: Db, model: ScreeningModel): Promise<ScreeningView> {
  let view = await readScreeningView(db, model.id);
  if (!view) {
    await rescoreModel(db, model.id, { onlyIfMissing: true });
    view = await readScreeningView(db, model.id);
    if (!view) throw new Error(`screening state of model ${model.id} was not created`);
  }
  return view;
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
 * Call it in the transaction that changed the labels. Compares all labelled materials by default,
 * so label writes that bypassed it (a seed, a script) are caught at the next call.
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
        await applyReferenceChanges(tx, modelId, diff);
        await insertScreeningEvents(
          tx,
          modelId,
          diff.map((d) => ({ materialId: d.material_id, fromClass: d.reference_class, toClass: d.current_class, vec: d.vec })),
        );
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
      await applyReferenceChanges(tx, modelId, labelled);
      await insertScreeningEvents(
        tx,
        modelId,
        labelled.map((d) => ({ materialId: d.material_id, fromClass: d.reference_class, toClass: d.current_class, vec: d.vec })),
      );
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

// --- Background folds ----------------------------------------------------------------------

/**
 * A background fold waits this long for more events before it runs: a stream of labels (each
 * recording events) then costs one fold — a new snapshot table, its indexes, a drop — per
 * interval instead of one per label. Pending events cost readers little (heads hold the exact top
 * of the ranking; single scores add one distance per event) and writers fold inline beyond
 * MAX_PENDING_EVENTS.
 */
export const FOLD_COALESCE_MS = 1000;

interface FoldSlot {
  running: Promise<void>;
  /** Fold (once more) after the current wait or fold. */
  again: boolean;
  /** Ends the current wait now, and skips later ones (tests, shutdown). */
  hurry(): void;
}

/** One fold at a time per (database handle, model); a request during a fold queues one more. */
const foldSlots = new WeakMap<Db, Map<string, FoldSlot>>();

/**
 * Folds the model's pending events in the background of this process (single flight per model),
 * after waiting `delayMs` (FOLD_COALESCE_MS) for more. Errors go to `onError` (the fold is retried at
 * the next request). Resolves when done.
 */
export function requestScreeningFold(
  db: Db,
  modelId: string,
  onError: (error: unknown) => void = () => {},
  delayMs: number = FOLD_COALESCE_MS,
): Promise<void> {
  let slots = foldSlots.get(db);
  if (!slots) foldSlots.set(db, (slots = new Map()));
  const existing = slots.get(modelId);
  if (existing) {
    existing.again = true;
    return existing.running;
  }
  let hurried = false;
  let wake = () => {};
  const slot: FoldSlot = {
    running: Promise.resolve(),
    again: true,
    hurry() {
      hurried = true;
      wake();
    },
  };
  slot.running = (async () => {
    while (slot.again) {
      // Let the caller's response go out first; then gather the events of the next delayMs.
      await new Promise<void>((resolve) => {
        if (hurried || delayMs <= 0) return void setImmediate(resolve);
        // Unref'd: a process that exits meanwhile leaves the events pending (scores are exact
        // either way); the next fold of any process takes them.
        const timer = setTimeout(resolve, delayMs);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // Requests until now are covered by this fold; later ones ask for another.
      slot.again = false;
      try {
        await foldScreening(db, modelId);
      } catch (error) {
        onError(error);
      }
    }
    slots!.delete(modelId);
  })();
  slots.set(modelId, slot);
  return slot.running;
}

/** Runs the background folds requested on `db` now and resolves when none is left (tests, shutdown). */
export async function screeningFoldsIdle(db: Db): Promise<void> {
  for (;;) {
    const slots = [...(foldSlots.get(db)?.values() ?? [])];
    if (slots.length === 0) return;
    for (const slot of slots) slot.hurry();
    await Promise.all(slots.map((s) => s.running));
  }
}

export type FoldMode = 'background' | 'inline' | 'none';

export interface LabelWriteOptions {
  /** When to fold the events this write recorded (default background; inline above MAX_PENDING_EVENTS). */
  fold?: FoldMode;
  onFoldError?: (error: unknown) => void;
  /** Head size (tests: a small head exercises pages served by the exact pass). */
  headSize?: number;
}

async function afterEvents(db: Db, results: readonly SyncResult[], opts: LabelWriteOptions): Promise<void> {
  // Inside a caller's transaction the events are not committed yet: the caller folds later.
  if (db.isTransaction) return;
  for (const { modelId, recorded, pending } of results) {
    if (recorded === 0) continue;
    const mode = pending > MAX_PENDING_EVENTS ? 'inline' : (opts.fold ?? 'background');
    if (mode === 'inline') await foldScreening(db, modelId);
    else if (mode === 'background') void requestScreeningFold(db, modelId, opts.onFoldError);
  }
}

/**
 * materials.labelMaterial plus the screening update, in one transaction: when it commits, every
 * candidate's score under every screened model reflects the label.
 *
 * Group commit: label writes that arrive on one database handle while a label transaction runs
 * wait for it and then go together, in one transaction with one screening update — the update
 * (references, events, head) costs the same for one label as for fifty, and under load it is
 * what limits how many labels a second go through. Each write is still acknowledged only after
 * the commit that holds it. A group that fails (bad input, a material deleted meanwhile) is
 * retried one write at a time, so each caller gets its own answer.
 */
export async function labelMaterialWithScreening(
  db: Db,
  input: LabelMaterialInput,
  actor?: string,
  opts: LabelWriteOptions = {},
): Promise<LabelRecord> {
  // Inside a caller's transaction: part of that transaction.
  if (db.isTransaction) return labelOne(db, input, actor, opts);
  let queues = labelQueues.get(db);
  if (!queues) labelQueues.set(db, (queues = new Map()));
  // Writes with different options never share a transaction.
  const key = `${opts.fold ?? 'background'}|${opts.headSize ?? ''}`;
  let queue = queues.get(key);
  if (!queue) queues.set(key, (queue = { waiting: [], running: false }));
  return new Promise<LabelRecord>((resolve, reject) => {
    queue.waiting.push({ input, actor, opts, resolve, reject });
    if (!queue.running) void runLabelGroups(db, queue);
  });
}

/** Most label writes in one group transaction. */
export const MAX_LABEL_GROUP = 50;

interface QueuedLabel {
  input: LabelMaterialInput;
  actor: string | undefined;
  opts: LabelWriteOptions;
  resolve(label: LabelRecord): void;
  reject(error: unknown): void;
}

interface LabelQueue {
  waiting: QueuedLabel[];
  running: boolean;
}

/** Label writes waiting for a group transaction, per database handle and write options. */
const labelQueues = new WeakMap<Db, Map<string, LabelQueue>>();

async function labelOne(db: Db, input: LabelMaterialInput, actor: string | undefined, opts: LabelWriteOptions): Promise<LabelRecord> {
  const { label, results } = await inTransaction(db, async (tx) => {
    const label = await labelMaterial(tx, input, actor);
    return { label, results: await syncScreeningLabels(tx, { headSize: opts.headSize }) };
  });
  await afterEvents(db, results, opts);
  return label;
}

async function runLabelGroups(db: Db, queue: LabelQueue): Promise<void> {
  queue.running = true;
  try {
    while (queue.waiting.length > 0) {
      const group = queue.waiting.splice(0, MAX_LABEL_GROUP);
      if (group.length === 1) {
        const [one] = group;
        await labelOne(db, one!.input, one!.actor, one!.opts).then(one!.resolve, one!.reject);
        continue;
      }
      // Material rows are locked in id order (a stable sort keeps each material's writes in arrival
      // order), as every group does: two processes' groups cannot deadlock on them.
      // (Array.prototype.sort is stable; an id that is not one sorts first and fails the group.)
      const lockOrder = (materialId: unknown) => (/^[1-9]\d{0,17}$/.test(String(materialId)) ? BigInt(String(materialId)) : 0n);
      const ordered = group
        .map((item) => ({ item, id: lockOrder(item.input.materialId) }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let committed: { labels: LabelRecord[]; results: SyncResult[] };
      try {
        committed = await inTransaction(db, async (tx) => {
          const labels: LabelRecord[] = [];
          for (const { item } of ordered) labels.push(await labelMaterial(tx, item.input, item.actor));
          return { labels, results: await syncScreeningLabels(tx, { headSize: group[0]!.opts.headSize }) };
        });
      } catch {
        // Nothing of the group was written: one at a time, each with its own outcome.
        for (const item of group) await labelOne(db, item.input, item.actor, item.opts).then(item.resolve, item.reject);
        continue;
      }
      try {
        await afterEvents(db, committed.results, group[0]!.opts);
      } catch (error) {
        // As for a single write: committed, but the fold it had to run failed.
        for (const item of group) item.reject(error);
        continue;
      }
      ordered.forEach(({ item }, i) => item.resolve(committed.labels[i]!));
    }
  } finally {
    queue.running = false;
  }
}

/** materials.retractLabel plus the screening update, in one transaction. */
export async function retractLabelWithScreening(
  db: Db,
  labelId: string,
  actor?: string,
  reason?: string,
  opts: LabelWriteOptions = {},
): Promise<LabelRecord> {
  const { label, results } = await inTransaction(db, async (tx) => {
    const label = await retractLabel(tx, labelId, actor, reason);
    return { label, results: await syncScreeningLabels(tx, { headSize: opts.headSize }) };
  });
  await afterEvents(db, results, opts);
  return label;
}

// ---------------------------------------------------------------------------------------------
// Ranking

export interface ScreenInput {
  modelId?: string | null;
  filter?: MaterialFilter | null;
  reference?: ReferenceSpec | null;
  first: number;
  after?: string | null;
  minScore?: number | null;
}

interface ScreenCursor {
  score: number;
  materialId: string;
  rank: number;
}

/** Opaque cursor: base64 of "screen:<score>:<id>:<rank>" (score as JS writes it, Infinity included). */
function encodeScreenCursor(c: ScreenCursor): string {
  return Buffer.from(`screen:${String(c.score)}:${c.materialId}:${c.rank}`, 'utf8').toString('base64');
}

function decodeScreenCursor(cursor: string | null | undefined): ScreenCursor | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const parts = Buffer.from(String(cursor), 'base64').toString('utf8').split(':');
  const [prefix, scoreText, materialId, rankText] = parts;
  const score = Number(scoreText);
  const rank = Number(rankText);
  const decoded = { score, materialId: materialId ?? '', rank };
  if (
    parts.length !== 4 ||
    prefix !== 'screen' ||
    Number.isNaN(score) ||
    !/^[1-9]\d{0,17}$/.test(decoded.materialId) ||
    !Number.isInteger(rank) ||
    rank < 1 ||
    encodeScreenCursor(decoded) !== cursor
  ) {
    throw new BadInputError(`invalid cursor ${JSON.stringify(String(cursor).slice(0, 60))}`, { field: 'after' });
  }
  return decoded;
}

function scoreRecord(score: number, meanDistanceToFast: number, meanDistanceToPoor: number, threshold: number): ScreeningScore {
  return { score, predictedClass: predictClass(score, threshold), meanDistanceToFast, meanDistanceToPoor };
}

/**
 * A page of the ranking of unlabelled materials under a model (the active one by default),
 * keyset-paginated on (score desc, material id desc).
 */
export async function screen(db: Db, input: ScreenInput, reads: SharedReads = DIRECT_READS): Promise<ScreeningPage> {
  const first = input.first;
  if (!Number.isInteger(first) || first < 1 || first > MAX_SCREEN_PAGE) {
    throw new BadInputError(`first must be an integer in 1..${MAX_SCREEN_PAGE}, got ${String(first)}`, { field: 'first' });
  }
  const after = decodeScreenCursor(input.after);
  const filter = toCandidateFilter(input.filter);
  if (filter.retired === true) throw new BadInputError('retired materials are not ranked: filter.retired may only be false', { field: 'filter.retired' });
  // Retired materials leave every ranking. Pages join the candidates' material rows anyway, so the
  // condition costs no round trip; only totalCount without a filter pays one count of retired candidates.
  filter.retired = false;
  const minScore = checkMinScore(input.minScore);
  const reference = resolveReference(input.reference);
  const { model, view } = await openScreening(db, input.modelId, reads);
  const page: PageQuery = { filter, after, minScore, limit: first + 1, withMaterials: true };
  if (reference.mode === 'NEAREST') return nearestScreen(db, model, reference, page, after);
  try {
    return await allScreen(db, model, view, reference, page, after);
  } catch (error) {
    // The snapshot read was dropped by a fold in between (a reader slower than two folds): once more.
    if (!isUndefinedTable(error)) throw error;
    const fresh = await readScreeningView(db, model.id);
    if (!fresh) throw error;
    return allScreen(db, model, fresh, reference, page, after);
  }
}

async function allScreen(
  db: Db,
  model: ScreeningModel,
  view: ScreeningView,
  reference: Required<ReferenceSpec>,
  page: PageQuery,
  after: ScreenCursor | null,
): Promise<ScreeningPage> {
  const spec = snapshotSpec(view.state);
  const changes = netChanges(view.events);
  const counts = currentCounts(view.state, changes);
  requireReferences(model, counts);

  let rows: RankedRow[];
  const lastEventId = view.events.at(-1)?.id;
  if (changes.length === 0) {
    rows = await snapshotPage(db, spec, page);
  } else if (view.head && lastEventId !== undefined && BigInt(view.head.last_event_id) >= BigInt(lastEventId)) {
    rows = await headPage(db, view.head.head_id, page);
    if (rows.length < page.limit && !view.head.complete) rows = await exactPage(db, spec, changes, counts, page);
  } else {
    rows = await exactPage(db, spec, changes, counts, page);
  }

  const items = rows.slice(0, page.limit - 1).map((row, i) => {
    const meanFast = row.sum_fast / counts.nFast;
    const meanPoor = row.sum_poor / counts.nPoor;
    return {
      materialId: row.material_id,
      rank: (after?.rank ?? 0) + i + 1,
      ...scoreRecord(row.score, meanFast, meanPoor, model.threshold),
      ...(row.material ? { material: materialRowToRecord(row.material) } : {}),
    };
  });

  const unfilteredCount = () =>
    changes.length === 0
      ? view.state.n_candidates
      : view.state.n_candidates +
        changes.filter((c) => c.toClass === null).length -
        changes.filter((c) => c.fromClass === null).length;
  const { retired: _retired, ...userFilter } = page.filter;
  const hasFilter = Object.keys(userFilter).length > 0;
  const countAll = async () =>
    hasFilter
      ? countCandidates(db, spec, changes, counts, page.filter, null)
      : unfilteredCount() - (await countCandidates(db, spec, changes, counts, { retired: true }, null));
  let total: Promise<number> | undefined;
  return pageOf(model, reference, items, rows.length > items.length, after, {
    totalCount: () =>
      (total ??= page.minScore === null ? countAll() : countCandidates(db, spec, changes, counts, page.filter, page.minScore)),
    leftOut: async () => Math.max(0, (await countUnlabelledMaterials(db, page.filter)) - (await countAll())),
  });
}

async function nearestScreen(
  db: Db,
  model: ScreeningModel,
  reference: Required<ReferenceSpec>,
  page: PageQuery,
  after: ScreenCursor | null,
): Promise<ScreeningPage> {
  const refs = await countReferences(db, model.id);
  requireReferences(model, { nFast: refs.fast, nPoor: refs.poor });
  const spec = vectorSpec(model);
  const candidates = await countNearestCandidates(db, spec, page.filter, MAX_NEAREST_CANDIDATES);
  if (candidates > MAX_NEAREST_CANDIDATES) {
    throw new BadInputError(
      `a NEAREST ranking is computed per request and covers at most ${MAX_NEAREST_CANDIDATES} candidates; ` +
        'narrow the filter, or use reference mode ALL (stored scores)',
      { field: 'reference', limit: MAX_NEAREST_CANDIDATES },
    );
  }
  const k = reference.k!;
  const rows = await nearestPage(db, spec, k, page);
  const items = rows.slice(0, page.limit - 1).map((row, i) => ({
    materialId: row.material_id,
    rank: (after?.rank ?? 0) + i + 1,
    ...scoreRecord(row.score, row.mean_fast ?? 0, row.mean_poor ?? 0, model.threshold),
  }));
  return pageOf(model, reference, items, rows.length > items.length, after, {
    totalCount: async () =>
      page.minScore === null
        ? candidates
        : (await nearestPage(db, spec, k, { ...page, after: null, limit: MAX_NEAREST_CANDIDATES + 1 })).length,
    leftOut: async () => Math.max(0, (await countUnlabelledMaterials(db, page.filter)) - candidates),
  });
}

function pageOf(
  model: ScreeningModel,
  reference: Required<ReferenceSpec>,
  items: ScreeningCandidate[],
  hasNextPage: boolean,
  after: ScreenCursor | null,
  counts: { totalCount(): Promise<number>; leftOut(): Promise<number> },
): ScreeningPage {
  const cursors = items.map((item) => encodeScreenCursor({ score: item.score, materialId: item.materialId, rank: item.rank }));
  return {
    modelId: model.id,
    model,
    threshold: model.threshold,
    reference,
    items,
    cursors,
    hasNextPage,
    hasPreviousPage: after !== null,
    startCursor: cursors[0] ?? null,
    endCursor: cursors.at(-1) ?? null,
    ...counts,
  };
}

// ---------------------------------------------------------------------------------------------
// Scores of single materials and structures, neighbours

/**
 * The current score of each material under a model (Material.screening), in key order; null for
 * a material without an embedding under the model, or when a class has no reference. A labelled
 * material gets its leave-self-out score.
 */
export async function screeningOfMaterials(
  db: Db,
  opts: { modelId?: string | null; reference?: ReferenceSpec | null },
  materialIds: readonly string[],
  reads: SharedReads = DIRECT_READS,
): Promise<(ScreeningResult | null)[]> {
  const reference = resolveReference(opts.reference);
  const { model, view } = await openScreening(db, opts.modelId, reads);
  const ids = [...new Set(materialIds.filter((id) => /^[1-9]\d{0,17}$/.test(id)))];
  const results = new Map<string, ScreeningScore>();
  if (reference.mode === 'NEAREST') {
    for (const row of await nearestMeansOfMaterials(db, vectorSpec(model), reference.k!, ids)) {
      if (row.n_fast === 0 || row.n_poor === 0) continue;
      const { score } = ratioScore(row.mean_fast!, row.mean_poor!);
      results.set(row.material_id, scoreRecord(score, row.mean_fast!, row.mean_poor!, model.threshold));
    }
  } else {
    const changes = netChanges(view.events);
    const counts = currentCounts(view.state, changes);
    for (const row of await exactMaterialRows(db, snapshotSpec(view.state), changes, ids)) {
      // Leave-self-out: a reference's own sums exclude it, so its counts do too.
      const nFast = counts.nFast - (row.class_now === 'FAST' ? 1 : 0);
      const nPoor = counts.nPoor - (row.class_now === 'POOR' ? 1 : 0);
      if (nFast < 1 || nPoor < 1) continue;
      const meanFast = Math.max(0, row.sum_fast) / nFast;
      const meanPoor = Math.max(0, row.sum_poor) / nPoor;
      results.set(row.material_id, scoreRecord(ratioScore(meanFast, meanPoor).score, meanFast, meanPoor, model.threshold));
    }
  }
  return materialIds.map((id) => {
    const score = results.get(id);
    return score ? { ...score, modelId: model.id, threshold: model.threshold, reference, materialId: id, vector: null } : null;
  });
}

/** The k nearest FAST references of each stored material (itself excluded), in key order. */
export async function nearestFastOfMaterials(
  db: Db,
  modelId: string | null | undefined,
  materialIds: readonly string[],
  k: number,
  reads: SharedReads = DIRECT_READS,
): Promise<Neighbor[][]> {
  checkK(k, 'k');
  const { model } = await openScreening(db, modelId, reads);
  return nearestFastForModel(db, model, materialIds, k, reads);
}

/**
 * nearestFastOfMaterials for a model already resolved (a screen page's): no model lookup. Each
 * material's list is a shared read: it stays while the model's references and the neighbours'
 * rows are unchanged (a node appears on many pages and rankings).
 */
export async function nearestFastForModel(
  db: Db,
  model: ScreeningModel,
  materialIds: readonly string[],
  k: number,
  reads: SharedReads = DIRECT_READS,
): Promise<Neighbor[][]> {
  checkK(k, 'k');
  return reads.readMany(
    materialIds.map((id) => `nearestFast:${model.id}:${k}:${id}`),
    (missing) => loadNearestFast(db, model, missing.map((i) => materialIds[i]!), k),
    (neighbours) => [...fastReferenceTags(model.id), ...neighbours.map((n) => `material:${n.materialId}`)],
  );
}

async function loadNearestFast(db: Db, model: ScreeningModel, materialIds: readonly string[], k: number): Promise<Neighbor[][]> {
  const ids = [...new Set(materialIds.filter((id) => /^[1-9]\d{0,17}$/.test(id)))];
  const byQuery = new Map<string, Neighbor[]>();
  const rows = await nearestReferencesOfMaterials(db, vectorSpec(model), ids, 'FAST', k, { withMaterials: true });
  // A reference is near many candidates: its row comes once, on one of its neighbour rows.
  const materials = new Map<string, MaterialRecord>();
  for (const row of rows) if (row.material) materials.set(row.material_id, materialRowToRecord(row.material));
  for (const row of rows) {
    const list = byQuery.get(row.query_id) ?? [];
    const material = materials.get(row.material_id);
    list.push({ rank: list.length + 1, distance: row.distance, materialId: row.material_id, ...(material ? { material } : {}) });
    byQuery.set(row.query_id, list);
  }
  return materialIds.map((id) => byQuery.get(id) ?? []);
}

/** The k nearest FAST references of an explicit vector (an uploaded structure's embedding). */
export async function nearestFastOfVector(db: Db, modelId: string, vector: string, k: number): Promise<Neighbor[]> {
  checkK(k, 'k');
  const model = await resolveScreeningModel(db, modelId);
  const rows = await nearestReferences(db, vectorSpec(model), { vec: vector }, 'FAST', k, null);
  return rows.map((r, i) => ({ rank: i + 1, distance: r.distance, materialId: r.material_id }));
}

/** Parses and embeds an uploaded structure with the model's weights, in this process. */
async function embedStructureText(db: Db, model: ScreeningModel, structure: StructureText, limits: StructureLimits): Promise<string> {
  if (!structure || typeof structure.text !== 'string') throw new BadInputError('structure text must be a string', { field: 'structure' });
  const parsed = parseStructure(structure.format, structure.text, limits);
  const serving = await getServingModel(db, model.id);
  const [vector] = embedStructuresWithModel(serving.model, [parsed]);
  if (!vector || vector.length !== model.dim) throw new Error(`model ${model.id} produced an embedding of ${vector?.length} components, expected ${model.dim}`);
  return toVectorLiteral(vector);
}

export type NeighbourLabel = LabelClass | 'UNLABELLED';

export interface SimilarMaterialsInput {
  materialId?: string | null;
  structure?: StructureText | null;
  k?: number | null;
  label?: NeighbourLabel | null;
  modelId?: string | null;
  /** Conditions on the neighbours (as `materials`' filter; the label goes in `label`). */
  filter?: MaterialFilter | null;
}

/**
 * The k materials nearest to a stored material (itself excluded) or to an uploaded structure
 * (embedded on the fly), optionally only those with a label class or unlabelled. FAST/POOR
 * neighbours are exact (kNN over the model's references); the others use the model's HNSW index.
 */
export async function similarMaterials(
  db: Db,
  input: SimilarMaterialsInput,
  limits: StructureLimits,
  opts: { exactBelow?: number; onModel?: (modelId: string) => void; reads?: SharedReads } = {},
): Promise<Neighbor[]> {
  const hasMaterial = input.materialId !== undefined && input.materialId !== null;
  const hasStructure = input.structure !== undefined && input.structure !== null;
  if (hasMaterial === hasStructure) throw new BadInputError('give exactly one of materialId or structure', { field: 'input' });
  const k = checkK(input.k ?? DEFAULT_NEIGHBOURS, 'k');
  const label = input.label ?? null;
  if (label !== null && label !== 'FAST' && label !== 'POOR' && label !== 'UNLABELLED') {
    throw new BadInputError(`unknown label ${String(label)}`, { field: 'label' });
  }
  if (input.filter?.label !== undefined && input.filter?.label !== null) {
    throw new BadInputError('similarMaterials filters labels with input.label, not input.filter.label', { field: 'filter.label' });
  }
  const filter = toCandidateFilter(input.filter);
  const { model, embedded } = await loadSimilarity(db, input.modelId, opts.reads);
  opts.onModel?.(model.id);
  if (hasMaterial) {
    const materialId = checkMaterialId(input.materialId);
    const neighbours = await neighboursOf(db, model, embedded, { materialId }, k, label, materialId, opts.exactBelow, filter);
    if (neighbours.length === 0 && (await embeddingOf(db, model.id, materialId)) === null) {
      await getMaterial(db, materialId); // NOT_FOUND for a material that does not exist
      throw new NotFoundError(`embedding of material ${materialId} under model`, model.id);
    }
    return neighbours;
  }
  const vec = await embedStructureText(db, model, input.structure!, limits);
  return neighboursOf(db, model, embedded, { vec }, k, label, null, opts.exactBelow, filter);
}

/** Neighbours of a query; the stored material's vector is read inside the kNN statement. */
async function neighboursOf(
  db: Db,
  model: ScreeningModel,
  embedded: number | null,
  query: VectorQuery,
  k: number,
  label: NeighbourLabel | null,
  excludeId: string | null,
  exactBelow: number = EXACT_NEIGHBOURS_MAX_ROWS,
  filter: CandidateFilter = {},
): Promise<Neighbor[]> {
  let rows;
  if (label === 'FAST' || label === 'POOR') {
    if (embedded === null) await ensureScreeningState(db, model);
    rows = await nearestReferences(db, vectorSpec(model), query, label, k, excludeId, filter);
  } else {
    const opts = {
      excludeId,
      filter,
      onlyUnlabelled: label === 'UNLABELLED',
      efSearch: Math.max(DEFAULT_EF_SEARCH, k + 1),
      withMaterials: true,
    };
    rows =
      embedded !== null && embedded <= exactBelow
        ? await nearestEmbeddings(db, vectorSpec(model), query, k, { ...opts, exact: true })
        : await nearestEmbeddings(db, vectorSpec(model), query, k, opts);
  }
  return rows.map((r, i) => ({
    rank: i + 1,
    distance: r.distance,
    materialId: r.material_id,
    ...(r.material ? { material: materialRowToRecord(r.material) } : {}),
  }));
}

/**
 * Neighbours of a stored material (Material.similar), itself excluded; [] when it has no embedding
 * under the model (a composition-only material).
 */
export async function similarToMaterial(
  db: Db,
  materialId: string,
  opts: {
    k?: number | null;
    label?: NeighbourLabel | null;
    modelId?: string | null;
    onModel?: (modelId: string) => void;
    reads?: SharedReads;
  },
): Promise<Neighbor[]> {
  const k = checkK(opts.k ?? DEFAULT_NEIGHBOURS, 'k');
  const { model, embedded } = await loadSimilarity(db, opts.modelId, opts.reads);
  opts.onModel?.(model.id);
  const id = checkMaterialId(materialId);
  // No embedding: the kNN statement finds no query vector and returns no rows.
  return neighboursOf(db, model, embedded, { materialId: id }, k, opts.label ?? null, id);
}

/** R of an uploaded structure against the model's current references; nothing is stored. */
export async function scoreStructure(
  db: Db,
  input: { structure: StructureText; modelId?: string | null; reference?: ReferenceSpec | null },
  limits: StructureLimits,
): Promise<ScreeningResult> {
  const reference = resolveReference(input.reference);
  const { model } = await openScreening(db, input.modelId);
  return scoreVector(db, model, await embedStructureText(db, model, input.structure, limits), reference);
}

/**
 * R of a material known only by its formula, embedded through the model's composition pathway
 * (models that read compositions), against the model's current references; nothing is stored.
 */
export async function scoreComposition(
  db: Db,
  input: { formula: string; modelId?: string | null; reference?: ReferenceSpec | null },
): Promise<ScreeningResult> {
  const reference = resolveReference(input.reference);
  if (typeof input.formula !== 'string' || input.formula.trim() === '') throw new BadInputError('formula must be a non-empty chemical formula', { field: 'formula' });
  parseComposition(input.formula); // BadInputError naming the problem before any model work
  const { model } = await openScreening(db, input.modelId);
  const serving = await getServingModel(db, model.id);
  if (!readsCompositions(serving.model.hyperparameters)) {
    throw new BadInputError(`model ${model.id} embeds structures only (no composition pathway); score a structure, or use a model trained with one`, { modelId: model.id });
  }
  const [vector] = embedFormulas(serving.model, [input.formula]);
  if (!vector || vector.length !== model.dim) throw new Error(`model ${model.id} produced an embedding of ${vector?.length} components, expected ${model.dim}`);
  return scoreVector(db, model, toVectorLiteral(vector), reference);
}

/** R of an embedding (a pgvector literal) against the model's current references. */
async function scoreVector(db: Db, model: ScreeningModel, vector: string, reference: Required<ReferenceSpec>): Promise<ScreeningResult> {
  const spec = vectorSpec(model);
  let meanFast: number;
  let meanPoor: number;
  if (reference.mode === 'ALL') {
    const sums = await referenceSums(db, spec, vector);
    requireReferences(model, { nFast: sums.nFast, nPoor: sums.nPoor });
    meanFast = sums.sumFast / sums.nFast;
    meanPoor = sums.sumPoor / sums.nPoor;
  } else {
    const [fast, poor] = [
      await nearestReferences(db, spec, { vec: vector }, 'FAST', reference.k!, null),
      await nearestReferences(db, spec, { vec: vector }, 'POOR', reference.k!, null),
    ];
    requireReferences(model, { nFast: fast.length, nPoor: poor.length });
    meanFast = fast.reduce((s, r) => s + r.distance, 0) / fast.length;
    meanPoor = poor.reduce((s, r) => s + r.distance, 0) / poor.length;
  }
  const { score } = ratioScore(meanFast, meanPoor);
  return { ...scoreRecord(score, meanFast, meanPoor, model.threshold), modelId: model.id, threshold: model.threshold, reference, materialId: null, vector };
}

// Re-exported for the GraphQL layer and tests.
export type { CandidateFilter, NetChange };
