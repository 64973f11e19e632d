/**
 * Serialises the bootstrap of `ionsieve start` and `ionsieve seed` (migrate, seed, install the
 * shipped model) across processes on one PostgreSQL, so N replicas started at once do it once: a
 * session advisory lock held on a dedicated connection (not a pool one: the work inside uses the
 * whole pool). The next replica waits, then finds everything done, which is cheap. A process that
 * dies releases the lock with its session. PGlite serves one process: no lock.
 */
import pg from 'pg';

/** Arbitrary constant advisory-lock key ("isbs"), distinct from the other keys of the project. */
const STARTUP_LOCK_KEY = 0x69736273;

export async function withStartupLock<T>(databaseUrl: string | undefined, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  if (!databaseUrl) return fn();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [STARTUP_LOCK_KEY]);
    if (!rows[0]?.ok) {
      onWait?.();
      await client.query('select pg_advisory_lock($1)', [STARTUP_LOCK_KEY]);
    }
    return await fn();
  } finally {
    // Ending the session releases the lock.
    await client.end().catch(() => {});
  }
}
