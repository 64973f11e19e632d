/** Pending reference changes: netting the events, the counts after them, and their preconditions. */
import { BadInputError } from '../errors.js';
import type { NetChange, ScreeningEventRow, ScreeningStateRow } from '../store/screening/index.js';
import type { ScreeningModel } from './types.js';

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

export function requireReferences(model: ScreeningModel, counts: { nFast: number; nPoor: number }): void {
  if (counts.nFast < 1 || counts.nPoor < 1) {
    throw new BadInputError(
      `model ${model.id} has ${counts.nFast} FAST and ${counts.nPoor} POOR references: screening needs at least one of each ` +
        '(label materials that have an embedding under the model)',
      { modelId: model.id, fast: counts.nFast, poor: counts.nPoor },
    );
  }
}

/** PostgreSQL's undefined_table: a snapshot dropped between reading its pointer and reading it. */
export function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: string })?.code === '42P01';
}

