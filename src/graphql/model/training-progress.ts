/** The event stream behind Subscription.trainingProgress. */
import { NotFoundError } from '../../errors.js';
import { getModel, type ModelRecord, type ModelStatus, type ModelProgress } from '../../services/models.js';
import { isDatabaseUnavailable } from '../../store/unavailable.js';
import type { GraphQLContext } from '../context.js';

export interface TrainingProgressPayload {
  modelId: string;
  status: ModelStatus;
  progress: ModelProgress | null;
  model: ModelRecord;
}

const FINAL: readonly ModelStatus[] = ['READY', 'FAILED', 'CANCELLED'];
/** Poll interval with a NOTIFY listener (a safety net) and without one (the only source). */
const POLL_WITH_LISTEN_MS = 5_000;
const POLL_WITHOUT_LISTEN_MS = 1_000;

/**
 * Yields the model's state at once, then on every change (woken by NOTIFY, or by polling), and
 * ends after a final status. While the database is unreachable the stream stays open and keeps
 * polling (the LISTEN reconnect wakes it at once when the database is back). Rejects with NotFoundError for an unknown model *before* the stream
 * starts, so graphql-js turns it into an ordinary error result (formatted like any other).
 */
export async function trainingProgressEvents(ctx: GraphQLContext, modelId: string): Promise<AsyncGenerator<TrainingProgressPayload>> {
  if (!(await getModel(ctx.db, modelId))) throw new NotFoundError('model', modelId);
  return progressStream(ctx, modelId);
}

async function* progressStream(ctx: GraphQLContext, modelId: string): AsyncGenerator<TrainingProgressPayload> {
  let dirty = true;
  let wake: (() => void) | null = null;
  const unwatch = ctx.trainingEvents?.watch(modelId, () => {
    dirty = true;
    wake?.();
  });
  const pollMs = ctx.trainingEvents ? POLL_WITH_LISTEN_MS : POLL_WITHOUT_LISTEN_MS;
  const nextWake = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = null;
    });
  try {
    let lastKey = '';
    for (;;) {
      dirty = false;
      let model: ModelRecord | null;
      try {
        model = await getModel(ctx.db, modelId);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        ctx.logger.warn({ err: (error as Error).message, modelId }, 'trainingProgress: database unavailable; retrying');
        await nextWake();
        continue;
      }
      if (!model) throw new NotFoundError('model', modelId);
      const key = JSON.stringify([model.status, model.progress, model.trainingCurve.length]);
      if (key !== lastKey) {
        lastKey = key;
        yield { modelId, status: model.status, progress: model.progress, model };
      }
      if (FINAL.includes(model.status)) return;
      if (!dirty) await nextWake();
    }
  } finally {
    unwatch?.();
  }
}
