/** `screen`: a page of the ranking of unlabelled materials under a model. */
import { BadInputError } from '../errors.js';
import { predictClass } from '../scoring/index.js';
import { materialRowToRecord } from '../services/materials.js';
import type { Db } from '../store/database.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import {
  countCandidates,
  countNearestCandidates,
  countReferences,
  countUnlabelledMaterials,
  exactPage,
  headPage,
  nearestPage,
  readScreeningView,
  snapshotPage,
  type PageQuery,
  type RankedRow,
  type ScreeningView,
} from '../store/screening/index.js';
import { checkMinScore, decodeScreenCursor, encodeScreenCursor, resolveReference, toCandidateFilter, type ScreenCursor } from './inputs.js';
import { MAX_NEAREST_CANDIDATES, MAX_SCREEN_PAGE } from './limits.js';
import { snapshotSpec, vectorSpec } from './model.js';
import { openScreening } from './open.js';
import { currentCounts, isUndefinedTable, netChanges, requireReferences } from './pending.js';
import type { ReferenceSpec, ScreeningCandidate, ScreeningModel, ScreeningPage, ScreeningScore } from './types.js';
import type { MaterialFilter } from '../services/materials.js';

export interface ScreenInput {
  modelId?: string | null;
  filter?: MaterialFilter | null;
  reference?: ReferenceSpec | null;
  first: number;
  after?: string | null;
  minScore?: number | null;
}


export function scoreRecord(score: number, meanDistanceToFast: number, meanDistanceToPoor: number, threshold: number): ScreeningScore {
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

