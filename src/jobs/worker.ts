/**
 * The worker loop: claim a job, run its task with a heartbeat that extends the lease, then
 * complete or fail it. Wakes on NOTIFY (when a listener is given) and polls as a fallback,
 * so a lost notification only delays a job by one poll interval.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import type { Listen } from '../store/listen.js';
import { DomainError } from '../errors.js';
import {
  JOB_CHANNEL,
  claimJob,
  completeJob,
  failJob,
  heartbeatJob,
  reapExpiredLeases,
  type JobRecord,
} from './queue.js';

/** Longest wait between two reaps of expired leases (WorkerOptions.reapMs). */
export const MAX_REAP_INTERVAL_MS = 10_000;

/** What a task gets besides its payload. */
export interface TaskHelpers {
  db: Db;
  logger: Logger;
  workerId: string;
  /** Aborted when the job is cancelled, its lease is lost, or the worker stops. */
  signal: AbortSignal;
}

export type Task<P = any> = (job: JobRecord<P>, helpers: TaskHelpers) => Promise<unknown>;

/** Subscribes to a Postgres NOTIFY channel (src/store/listen.ts). */
export type { Listen };

export interface WorkerOptions {
  db: Db;
  logger: Logger;
  tasks: Record<string, Task>;
  listen?: Listen;
  workerId?: string;
  /** Lease length; the heartbeat renews it every leaseMs / 3. */
  leaseMs?: number;
  pollMs?: number;
  /**
   * Least time between two reaps of expired leases (jobs whose worker died go back to QUEUED). The
   * loop reaps before its first claim, then at most this often, not on every poll. Default: the
   * lease, at most MAX_REAP_INTERVAL_MS (a lease cannot expire unseen for much longer than itself).
   */
  reapMs?: number;
  /** Stops the loop (after the current job is aborted). */
  signal?: AbortSignal;
}

export interface RunningWorker {
  workerId: string;
  /** Resolves when the loop has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** An error that retrying cannot fix (bad input, too few labels): the job fails at once. */
export function isRetryable(err: unknown): boolean {
  return !(err instanceof DomainError);
}

export function startWorker(opts: WorkerOptions): RunningWorker {
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 2_000;
  const reapMs = opts.reapMs ?? Math.min(leaseMs, MAX_REAP_INTERVAL_MS);
  let lastReap = -Infinity;
  const kinds = Object.keys(opts.tasks);
  const stopController = new AbortController();
  opts.signal?.addEventListener('abort', () => stopController.abort(), { once: true });
  const log = opts.logger.child({ workerId });

  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => { wake = null; resolve(); }, ms);
      wake = () => { clearTimeout(timer); wake = null; resolve(); };
    });
  stopController.signal.addEventListener('abort', () => wake?.(), { once: true });

  const runOne = async (job: JobRecord): Promise<void> => {
    const jobController = new AbortController();
    const onStop = () => jobController.abort(new Error('worker stopping'));
    stopController.signal.addEventListener('abort', onStop, { once: true });
    const beat = setInterval(() => {
      heartbeatJob(opts.db, job.id, workerId, leaseMs)
        .then((ok) => {
          if (!ok) jobController.abort(new Error('job cancelled or lease lost'));
        })
        .catch((err) => log.warn({ err, jobId: job.id }, 'heartbeat failed'));
    }, Math.max(50, Math.floor(leaseMs / 3)));
    const started = Date.now();
    log.info({ jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job started');
    try {
      const result = await opts.tasks[job.kind]!(job, { db: opts.db, logger: log.child({ jobId: job.id }), workerId, signal: jobController.signal });
      clearInterval(beat);
      const ok = await completeJob(opts.db, job.id, workerId, result);
      log.info({ jobId: job.id, kind: job.kind, ms: Date.now() - started, recorded: ok }, 'job done');
    } catch (err) {
      clearInterval(beat);
      const message = err instanceof Error ? err.message : String(err);
      if (jobController.signal.aborted && stopController.signal.aborted) {
        // Stopping: leave the job RUNNING; its lease expires and another worker takes it.
        log.warn({ jobId: job.id }, 'worker stopped during job; it will be retried after its lease');
      } else {
        try {
          const status = await failJob(opts.db, job.id, workerId, message, { retryable: isRetryable(err) });
          // null: the job is no longer ours (cancelled, or our lease expired — e.g. the process was
          // paused — and another worker took it): nothing was recorded and nothing failed.
          if (status === null) log.warn({ jobId: job.id, kind: job.kind, err: message }, 'job lost: cancelled or taken over by another worker; nothing recorded');
          else log.error({ jobId: job.id, kind: job.kind, err: message, status }, 'job failed');
        } catch (recordErr) {
          // The database is unreachable: the lease expires and the job is reaped and retried.
          log.error({ jobId: job.id, kind: job.kind, err: message, recordErr: String(recordErr) }, 'job failed; could not record it');
        }
      }
    } finally {
      clearInterval(beat);
      stopController.signal.removeEventListener('abort', onStop);
    }
  };

  const loop = async () => {
    let unlisten: (() => Promise<void>) | null = null;
    if (opts.listen) {
      try {
        unlisten = await opts.listen(JOB_CHANNEL, () => wake?.());
      } catch (err) {
        log.warn({ err }, 'LISTEN unavailable; polling only');
      }
    }
    log.info({ kinds, leaseMs, pollMs, reapMs }, 'worker started');
    try {
      while (!stopController.signal.aborted) {
        let job: JobRecord | null = null;
        try {
          if (performance.now() - lastReap >= reapMs) {
            const reaped = await reapExpiredLeases(opts.db);
            lastReap = performance.now();
            if (reaped > 0) log.warn({ reaped }, 'expired leases reaped: their jobs are queued again (or failed)');
          }
          job = await claimJob(opts.db, workerId, kinds, leaseMs, { reap: false });
        } catch (err) {
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'claim failed; retrying after poll interval');
        }
        if (job) await runOne(job);
        else await sleep(pollMs);
      }
    } finally {
      if (unlisten) await unlisten().catch(() => {});
      log.info('worker stopped');
    }
  };

  const done = loop();
  return {
    workerId,
    done,
    async stop() {
      stopController.abort();
      await done;
    },
  };
}
