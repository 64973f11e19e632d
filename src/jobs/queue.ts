/**
 * A small Postgres job queue (the `job` table), in the style of graphile-worker / pg-boss:
 * - claiming is one statement with `FOR UPDATE SKIP LOCKED`, so any number of workers on any
 *   number of machines can poll the same table without taking a job twice;
 * - a claimed job holds a lease (`locked_until`) that the worker extends with heartbeats; a job
 *   whose worker died is found by its expired lease and queued again (or failed when its
 *   attempts are spent);
 * - complete/fail only succeed where `locked_by` is still the caller, so a worker that lost its
 *   lease cannot overwrite the outcome of the worker that took the job over.
 * Works unchanged on PGlite and PostgreSQL.
 */
import { sql } from 'kysely';
import type { Db } from '../store/database.js';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELLED';

export interface JobRecord<P = unknown> {
  id: string;
  kind: string;
  payload: P;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  result: unknown;
  /** What the running task last recorded (counts, a resumable cursor); null before it records any. */
  progress: unknown;
  createdAt: Date;
  finishedAt: Date | null;
}

/** The channel workers LISTEN on; the payload is the job kind. */
export const JOB_CHANNEL = 'ionsieve_jobs';

interface JobRow {
  id: string | number | bigint;
  kind: string;
  payload: unknown;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: Date | string | null;
  last_error: string | null;
  result: unknown;
  progress: unknown;
  created_at: Date | string;
  finished_at: Date | string | null;
}

const toDate = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

function jobRowToJob<P>(row: JobRow): JobRecord<P> {
  return {
    id: String(row.id),
    kind: row.kind,
    payload: row.payload as P,
    status: row.status,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lockedBy: row.locked_by,
    lockedUntil: toDate(row.locked_until),
    lastError: row.last_error,
    result: row.result,
    progress: row.progress ?? null,
    createdAt: toDate(row.created_at)!,
    finishedAt: toDate(row.finished_at),
  };
}

export async function enqueueJob<P>(
  db: Db,
  kind: string,
  payload: P,
  opts: {
    maxAttempts?: number;
    /** Insert it already claimed (first attempt running) by this worker, which runs it itself: no worker is woken. */
    claimedBy?: { workerId: string; leaseMs: number };
  } = {},
): Promise<JobRecord<P>> {
  if (opts.claimedBy) {
    const { rows } = await sql<JobRow>`
      insert into job (kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until, heartbeat_at)
      values (${kind}, ${JSON.stringify(payload)}::jsonb, 'RUNNING', 1, ${opts.maxAttempts ?? 3}, now(), ${opts.claimedBy.workerId},
        now() + ${opts.claimedBy.leaseMs} * interval '1 millisecond', now())
      returning *`.execute(db);
    return jobRowToJob<P>(rows[0]!);
  }
  const { rows } = await sql<JobRow>`
    insert into job (kind, payload, status, attempts, max_attempts, run_at)
    values (${kind}, ${JSON.stringify(payload)}::jsonb, 'QUEUED', 0, ${opts.maxAttempts ?? 3}, now())
    returning *`.execute(db);
  // Wake idle workers at once instead of waiting for their next poll.
  await sql`select pg_notify(${JOB_CHANNEL}, ${kind})`.execute(db);
  return jobRowToJob<P>(rows[0]!);
}

/**
 * Enqueues a job unless one of this kind with this key is QUEUED already (then returns null): the
 * unique index on queued keys decides, so producers in concurrent transactions cannot both insert.
 * Call it in the transaction that made the work, so the job and the work commit together.
 */
export async function enqueueJobOnce<P>(
  db: Db,
  kind: string,
  payload: P,
  jobKey: string,
  opts: { maxAttempts?: number } = {},
): Promise<JobRecord<P> | null> {
  const { rows } = await sql<JobRow>`
    insert into job (kind, payload, status, attempts, max_attempts, run_at, job_key)
    values (${kind}, ${JSON.stringify(payload)}::jsonb, 'QUEUED', 0, ${opts.maxAttempts ?? 3}, now(), ${jobKey})
    on conflict (kind, job_key) where status = 'QUEUED' and job_key is not null do nothing
    returning *`.execute(db);
  if (!rows[0]) return null;
  await sql`select pg_notify(${JOB_CHANNEL}, ${kind})`.execute(db);
  return jobRowToJob<P>(rows[0]);
}

export async function getJob<P = unknown>(db: Db, id: string): Promise<JobRecord<P> | null> {
  const { rows } = await sql<JobRow>`select * from job where id = ${id}`.execute(db);
  return rows[0] ? jobRowToJob<P>(rows[0]) : null;
}

/**
 * Frees jobs whose lease expired (their worker died or hung): back to QUEUED while attempts
 * remain, else FAILED. Returns how many were touched.
 */
export async function reapExpiredLeases(db: Db): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    update job set
      status = case when attempts >= max_attempts then 'FAILED' else 'QUEUED' end,
      last_error = 'lease expired after ' || attempts || ' attempt(s): worker ' || coalesce(locked_by, '?') || ' stopped heartbeating',
      finished_at = case when attempts >= max_attempts then now() else null end,
      locked_by = null, locked_until = null, run_at = now()
    where status = 'RUNNING' and locked_until < now()
    returning id`.execute(db);
  return rows.length;
}

/**
 * Takes the oldest runnable job of the given kinds, or null. One statement, SKIP LOCKED. It first
 * reaps expired leases unless `reap: false` — the worker loop passes that and reaps on its own
 * schedule (at most every `reapMs`), so an idle poll is one statement.
 */
export async function claimJob<P = unknown>(
  db: Db,
  workerId: string,
  kinds: readonly string[],
  leaseMs: number,
  opts: { reap?: boolean } = {},
): Promise<JobRecord<P> | null> {
  if (opts.reap !== false) await reapExpiredLeases(db);
  const { rows } = await sql<JobRow>`
    with next as (
      select id from job
      where status = 'QUEUED' and run_at <= now() and kind in (${sql.join(kinds.map((k) => sql`${k}`))})
      order by run_at, id
      limit 1
      for update skip locked
    )
    update job set status = 'RUNNING', attempts = job.attempts + 1, locked_by = ${workerId},
      locked_until = now() + ${leaseMs} * interval '1 millisecond', heartbeat_at = now()
    from next where job.id = next.id
    returning job.*`.execute(db);
  return rows[0] ? jobRowToJob<P>(rows[0]) : null;
}

/**
 * Takes one given job (kind `kind`) when it may run: queued, failed, or running with an expired
 * lease (its worker died). For a command that runs or resumes a job itself (`ionsieve import
 * --optimade --resume`); a failed job gets one more attempt. Null when it is running elsewhere,
 * done, cancelled, or not of that kind.
 */
export async function claimJobById<P = unknown>(
  db: Db,
  jobId: string,
  kind: string,
  workerId: string,
  leaseMs: number,
): Promise<JobRecord<P> | null> {
  const { rows } = await sql<JobRow>`
    update job set status = 'RUNNING', attempts = job.attempts + 1,
      max_attempts = greatest(job.max_attempts, job.attempts + 1), locked_by = ${workerId},
      locked_until = now() + ${leaseMs} * interval '1 millisecond', heartbeat_at = now(), finished_at = null
    where id = ${jobId} and kind = ${kind}
      and (status in ('QUEUED', 'FAILED') or (status = 'RUNNING' and locked_until < now()))
    returning *`.execute(db);
  return rows[0] ? jobRowToJob<P>(rows[0]) : null;
}

/**
 * Records the running task's progress, only while the job is still ours. Inside the caller's
 * transaction it commits with the work it describes (a false return should roll that back).
 */
export async function updateJobProgress(db: Db, jobId: string, workerId: string, progress: unknown): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update job set progress = ${JSON.stringify(progress)}::jsonb
    where id = ${jobId} and locked_by = ${workerId} and status = 'RUNNING'
    returning id`.execute(db);
  return rows.length === 1;
}

/** Extends the lease. False when the job is no longer ours (lease lost) or was cancelled. */
export async function heartbeatJob(db: Db, jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update job set locked_until = now() + ${leaseMs} * interval '1 millisecond', heartbeat_at = now()
    where id = ${jobId} and locked_by = ${workerId} and status = 'RUNNING'
    returning id`.execute(db);
  return rows.length === 1;
}

export async function completeJob(db: Db, jobId: string, workerId: string, result: unknown): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update job set status = 'DONE', result = ${JSON.stringify(result ?? null)}::jsonb, finished_at = now(),
      locked_by = null, locked_until = null
    where id = ${jobId} and locked_by = ${workerId} and status = 'RUNNING'
    returning id`.execute(db);
  return rows.length === 1;
}

/**
 * Records a failure. A retryable failure with attempts left goes back to QUEUED with
 * exponential backoff (e^attempts seconds, as graphile-worker); otherwise FAILED.
 */
export async function failJob(
  db: Db,
  jobId: string,
  workerId: string,
  error: string,
  opts: { retryable: boolean },
): Promise<JobStatus | null> {
  const { rows } = await sql<{ status: JobStatus }>`
    update job set
      status = case when ${opts.retryable} and attempts < max_attempts then 'QUEUED' else 'FAILED' end,
      run_at = now() + exp(least(attempts, 10)) * interval '1 second',
      finished_at = case when ${opts.retryable} and attempts < max_attempts then null else now() end,
      last_error = ${error}, locked_by = null, locked_until = null
    where id = ${jobId} and locked_by = ${workerId} and status = 'RUNNING'
    returning status`.execute(db);
  return rows[0]?.status ?? null;
}

/** Cancels a queued or running job; a running worker notices at its next heartbeat. */
export async function cancelJob(db: Db, jobId: string): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    update job set status = 'CANCELLED', finished_at = now(), locked_by = null, locked_until = null
    where id = ${jobId} and status in ('QUEUED', 'RUNNING')
    returning id`.execute(db);
  return rows.length === 1;
}
