import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Json, Timestamp } from './material.table.js';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED' | 'CANCELLED';

export interface JobTable {
  id: Generated<string>;
  /** Task identifier, e.g. 'train_model'. */
  kind: string;
  payload: Json<Record<string, unknown>>;
  status: Generated<JobStatus>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  run_at: Timestamp;
  locked_by: string | null;
  /** Lease end: another worker may claim the job after this. */
  locked_until: Timestamp | null;
  heartbeat_at: Timestamp | null;
  last_error: string | null;
  result: Json<unknown> | null;
  /** Written by the running task (counts, a resumable cursor); migration 2026_12_07_1800. */
  progress: Json<unknown> | null;
  created_at: Timestamp;
  finished_at: Timestamp | null;
  /** At most one QUEUED job per (kind, job_key) (migrations/2026_12_07_1710_job_key.ts); null: no key. */
  job_key: Generated<string | null>;
}

export type JobRow = Selectable<JobTable>;
export type NewJobRow = Insertable<JobTable>;
export type JobUpdate = Updateable<JobTable>;
