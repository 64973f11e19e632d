/** Jobs as the API shows them (any kind): read one by id. */
import { getJob, type JobRecord } from '../jobs/queue.js';
import type { Db } from '../store/database.js';

/** The job with this id, or null (also for an id that cannot name one). */
export async function findJob(db: Db, id: string): Promise<JobRecord | null> {
  const text = String(id).trim();
  if (!/^[1-9]\d{0,17}$/.test(text)) return null;
  return getJob(db, text);
}
