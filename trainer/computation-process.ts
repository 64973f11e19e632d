/**
 * Child-process entry of a training computation (computation.ts), started by
 * computation-client.ts through child-bootstrap.mjs. Messages (advanced serialization):
 *   in:  { type: 'start', input, nice } once; { type: 'embed', id, items }; { type: 'stop' }
 *   out: { type: 'event', event }; { type: 'result', result }; { type: 'error', error };
 *        { type: 'embedded', id, vectors, errors } or { type: 'embed-error', id, error }
 * It exits when the parent disconnects (a serving process that died takes its trainings along).
 */
import { lowerCpuPriority } from './priority.js';
import { runComputation, type Computation, type ComputationInput, type EmbedItem } from './computation.js';

type Incoming =
  | { type: 'start'; input: ComputationInput; nice: number }
  | { type: 'embed'; id: number; items: EmbedItem[] }
  | { type: 'stop' };

export interface SerialisedError {
  name: string;
  message: string;
  details?: Record<string, unknown>;
}

export function serialiseError(error: unknown): SerialisedError {
  if (error instanceof Error) {
    const details = (error as { details?: Record<string, unknown> }).details;
    return { name: error.name, message: error.message, ...(details ? { details } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

const send = (message: unknown) => process.send?.(message);
let computation: Computation | null = null;

process.on('disconnect', () => process.exit(0));
process.on('message', (message: Incoming) => {
  if (message.type === 'start') {
    // Before TF.js starts any thread: threads inherit this process's nice value.
    lowerCpuPriority(message.nice);
    runComputation(message.input, (event) => send({ type: 'event', event })).then(
      (c) => {
        computation = c;
        send({ type: 'result', result: c.result });
      },
      (error: unknown) => send({ type: 'error', error: serialiseError(error) }),
    );
  } else if (message.type === 'embed') {
    try {
      if (!computation) throw new Error('no trained model to embed with');
      send({ type: 'embedded', id: message.id, ...computation.embed(message.items) });
    } catch (error) {
      send({ type: 'embed-error', id: message.id, error: serialiseError(error) });
    }
  } else if (message.type === 'stop') {
    computation?.dispose();
    process.exit(0);
  }
});
send({ type: 'ready' });
