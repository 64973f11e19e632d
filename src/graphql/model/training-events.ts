/**
 * Wake-ups for the trainingProgress subscription, fed by LISTEN on `ionsieve_training` (trainers
 * in any process NOTIFY there). One LISTEN per server; subscribers register per model id.
 *
 * A notification only says "look again": the subscription reads the model row itself, and also
 * polls, so a notification lost while the LISTEN connection was down delays an event by one
 * poll interval at most.
 */
import type { Logger } from 'pino';
import type { Listen } from '../../store/listen.js';
import { TRAINING_CHANNEL, type TrainingProgressEvent } from '../../services/models.js';

export interface TrainingEvents {
  /** Calls `onWake` on every notification about `modelId` (and on reconnects); returns an unsubscribe function. */
  watch(modelId: string, onWake: () => void): () => void;
  close(): Promise<void>;
}

export async function createTrainingEvents(opts: { listen: Listen; logger: Logger }): Promise<TrainingEvents> {
  const watchers = new Map<string, Set<() => void>>();
  const wake = (modelId: string | null) => {
    const targets = modelId === null ? [...watchers.values()] : [watchers.get(modelId) ?? new Set()];
    for (const set of targets) for (const fn of set) fn();
  };
  const unlisten = await opts.listen(TRAINING_CHANNEL, (payload) => {
    if (payload === '') return wake(null);
    try {
      const event = JSON.parse(payload) as Partial<TrainingProgressEvent>;
      wake(event.modelId !== undefined ? String(event.modelId) : null);
    } catch {
      opts.logger.warn({ payload: payload.slice(0, 200) }, 'unreadable training notification');
      wake(null);
    }
  });
  return {
    watch(modelId, onWake) {
      let set = watchers.get(modelId);
      if (!set) watchers.set(modelId, (set = new Set()));
      set.add(onWake);
      return () => {
        set!.delete(onWake);
        if (set!.size === 0) watchers.delete(modelId);
      };
    },
    async close() {
      watchers.clear();
      // The database may already be closed (shutdown order); there is nothing left to unsubscribe then.
      await unlisten().catch((err: unknown) => opts.logger.debug({ err }, 'UNLISTEN failed on close'));
    },
  };
}
