/**
 * Runs parser inputs in a worker thread (parse-worker.ts), so that an input which hangs is ended
 * and reported instead of blocking the test run. The worker reports the CPU time of each input
 * (process.cpuUsage: the main thread only waits meanwhile), which machine load barely changes.
 */
import { Worker } from 'node:worker_threads';
import type { StructureFormat } from '../../src/structure/index.js';
import type { NewMaterialRow } from '../../src/store/material.table.js';

export type SandboxRequest =
  | { id: number; kind: 'structure'; format: StructureFormat; text: string; limits: { maxSites: number; maxTextBytes: number } }
  | { id: number; kind: 'composition'; text: string };

export interface ThrownError {
  name: string;
  message: string;
  stack?: string;
  /** instanceof BadInputError (code BAD_USER_INPUT). */
  badInput: boolean;
  /** instanceof StructureParseError. */
  parseError: boolean;
  code?: string;
  format?: string;
  line?: number;
}

export type SandboxOutcome =
  | { outcome: 'ok'; row: NewMaterialRow; /** Building its k = 12 crystal graph (what embedding does) threw this. */ graphError?: ThrownError }
  | { outcome: 'threw'; error: ThrownError };

export type SandboxReply = { id: number; cpuMs: number } & SandboxOutcome;

export type SandboxResult =
  | SandboxReply
  | { outcome: 'hang'; wallMs: number }
  | { outcome: 'died'; error: string };

type Request = SandboxRequest extends infer R ? (R extends SandboxRequest ? Omit<R, 'id'> : never) : never;

/** Wall-clock limit after which an input counts as hanging (generous: the CPU bound is checked apart). */
export const HANG_WALL_MS = 60_000;
/** The worker's heap: an input that needs more is a memory denial of service. */
const WORKER_HEAP_MB = 1024;

export class ParseSandbox {
  private worker: Worker | undefined;
  private nextId = 1;

  private start(): Worker {
    const entry = new URL('./parse-worker.ts', import.meta.url).href;
    const worker = new Worker(new URL('../../src/training/worker-bootstrap.mjs', import.meta.url), {
      workerData: { entry },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  run(request: Request, hangMs = HANG_WALL_MS): Promise<SandboxResult> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const started = Date.now();
    return new Promise<SandboxResult>((resolve) => {
      const done = (result: SandboxResult) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(result);
      };
      const restart = () => {
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
      };
      const onMessage = (reply: SandboxReply) => {
        if (reply.id === id) done(reply);
      };
      const onError = (error: Error) => {
        restart();
        done({ outcome: 'died', error: `${error.name}: ${error.message}` });
      };
      const onExit = (code: number) => {
        restart();
        done({ outcome: 'died', error: `worker exited with code ${code}` });
      };
      const timer = setTimeout(() => {
        restart();
        done({ outcome: 'hang', wallMs: Date.now() - started });
      }, hangMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
