/**
 * Runs a training computation (computation.ts) for the train_model task: by default in a child
 * process, so that the serving process (the embedded default serves, holds PGlite and runs its
 * trainer in one process) keeps its event loop, heap and, with the child's lower nice value, most
 * of the CPU while a job fits; inline on request. The database stays with the caller.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError, TrainingDivergedError, type TrainingDivergence } from '../src/errors.js';
import { runComputation, type ComputationEvent, type ComputationInput, type ComputationResult, type EmbedItem, type EmbeddedBatch } from './computation.js';
import type { SerialisedError } from './computation-process.js';

export type TrainerIsolation = 'process' | 'inline';

export interface RunningComputation {
  /** Resolves with the trained model's results; rejects on failure or abort. */
  result: Promise<ComputationResult>;
  /** Embeds materials with the trained model (after `result`). */
  embed(items: readonly EmbedItem[]): Promise<EmbeddedBatch>;
  /** Frees the model and ends the child (idempotent). */
  close(): Promise<void>;
}

export interface StartComputationOptions {
  isolation?: TrainerIsolation;
  /** nice value of the child (0: unchanged). */
  nice?: number;
  signal: AbortSignal;
  onEvent(event: ComputationEvent): void;
}

/** Errors keep their class across the process boundary: a job's retry decision depends on it. */
function revive(e: SerialisedError): Error {
  if (e.name === 'TrainingDivergedError') return new TrainingDivergedError(e.message, (e.details ?? { epoch: 0 }) as unknown as TrainingDivergence);
  if (e.name === 'BadInputError' || e.name === 'StructureParseError') return new BadInputError(e.message, e.details);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}

export function startComputation(input: ComputationInput, opts: StartComputationOptions): RunningComputation {
  return opts.isolation === 'inline' ? startInline(input, opts) : startChild(input, opts);
}

function startInline(input: ComputationInput, opts: StartComputationOptions): RunningComputation {
  const running = runComputation(input, opts.onEvent, opts.signal);
  let closed = false;
  return {
    result: running.then((c) => c.result),
    async embed(items) {
      return (await running).embed(items);
    },
    async close() {
      if (closed) return;
      closed = true;
      await running.then((c) => c.dispose(), () => {});
    },
  };
}

const NICE_BIN = '/usr/bin/nice';

/** Node flags worth passing on (heap sizes); test-runner and loader flags are not. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => /^--max-(old|semi)-space-size=/.test(a));
}

function startChild(input: ComputationInput, opts: StartComputationOptions): RunningComputation {
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`./computation-process${path.extname(here)}`, import.meta.url).href;
  const bootstrap = fileURLToPath(new URL('./child-bootstrap.mjs', import.meta.url));
  const nice = opts.nice ?? 0;
  // Started under nice(1) where there is one, so that every thread of the child (V8's and libuv's,
  // which exist before any JavaScript runs, and OpenBLAS's) runs at the lower priority; the child
  // also lowers its own main thread, which covers systems without nice(1).
  const child: ChildProcess =
    nice > 0 && existsSync(NICE_BIN)
      ? spawn(NICE_BIN, ['-n', String(nice), process.execPath, ...childExecArgv(), bootstrap, entry], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(bootstrap, [entry], { serialization: 'advanced', execArgv: childExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let exited = false;
  const pendingEmbeds = new Map<number, { resolve(b: EmbeddedBatch): void; reject(e: Error): void }>();
  let nextId = 1;
  let settle!: { resolve(r: ComputationResult): void; reject(e: Error): void };
  const result = new Promise<ComputationResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => {});

  const failAll = (error: Error) => {
    settle.reject(error);
    for (const p of pendingEmbeds.values()) p.reject(error);
    pendingEmbeds.clear();
  };
  child.on('message', (message: any) => {
    switch (message?.type) {
      case 'ready':
        child.send({ type: 'start', input, nice: opts.nice ?? 0 });
        break;
      case 'event':
        opts.onEvent(message.event as ComputationEvent);
        break;
      case 'result':
        settle.resolve(message.result as ComputationResult);
        break;
      case 'error':
        settle.reject(revive(message.error));
        break;
      case 'embedded':
      case 'embed-error': {
        const pending = pendingEmbeds.get(message.id);
        pendingEmbeds.delete(message.id);
        if (message.type === 'embedded') pending?.resolve({ vectors: message.vectors, errors: message.errors });
        else pending?.reject(revive(message.error));
        break;
      }
    }
  });
  child.on('error', (error) => failAll(error));
  child.on('exit', (code, signal) => {
    exited = true;
    failAll(opts.signal.aborted ? (opts.signal.reason as Error) : new Error(`training process exited (code ${code}, signal ${signal}) before it finished`));
  });
  const onAbort = () => {
    failAll(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
    if (!exited) child.kill('SIGKILL');
  };
  if (opts.signal.aborted) onAbort();
  else opts.signal.addEventListener('abort', onAbort, { once: true });

  return {
    result,
    async embed(items) {
      await result;
      if (exited) throw new Error('training process has exited');
      const id = nextId++;
      return new Promise<EmbeddedBatch>((resolve, reject) => {
        pendingEmbeds.set(id, { resolve, reject });
        child.send({ type: 'embed', id, items });
      });
    },
    async close() {
      opts.signal.removeEventListener('abort', onAbort);
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

