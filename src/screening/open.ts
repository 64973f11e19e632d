/**
 * Opening a model for a read. Reads never write: a READY model's screening scores are written by
 * training (completeTraining), installing the shipped model, activation and re-scores, and kept
 * current by label writes. A model without them (one whose scores were dropped, or rows written
 * behind the services' back) is reported as not ready, with how to build them.
 */
import { ScreeningNotReadyError } from '../errors.js';
import type { Db } from '../store/database.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import type { ScreeningView } from '../store/screening/index.js';
import { loadScreening } from './model.js';
import type { ScreeningModel } from './types.js';

/** The model and its screening view; ScreeningNotReadyError (MODEL_NOT_READY) when it has none. */
export async function openScreening(
  db: Db,
  modelId: string | null | undefined,
  reads: SharedReads = DIRECT_READS,
): Promise<{ model: ScreeningModel; view: ScreeningView }> {
  const { model, view } = await loadScreening(db, modelId, reads);
  if (!view) throw new ScreeningNotReadyError(model.id);
  return { model, view };
}
