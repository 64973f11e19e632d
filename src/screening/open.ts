/**
 * Opening a model for a read. A model that nobody has scored yet (its READY commit and the
 * trainer's re-score are two transactions; a re-score that failed) is scored here, once, on its
 * first read — the one place where a read writes (docs/ARCHITECTURE.md, "What is left").
 */
import type { Db } from '../store/database.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import type { ScreeningView } from '../store/screening/index.js';
import { ensureScreeningState } from './maintenance.js';
import { loadScreening } from './model.js';
import type { ScreeningModel } from './types.js';

/** The model and its screening view, building the view first if the model has none yet. */
export async function openScreening(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; view: ScreeningView }> {
  const { model, view } = await loadScreening(db, modelId, reads);
  return { model, view: view ?? (await ensureScreeningState(db, model)) };
}

