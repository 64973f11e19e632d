import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type KyselyPlugin, type RootOperationNode } from 'kysely';
import pino from 'pino';
import { BadInputError } from '../../src/errors.js';
import {
  cancelJob,
  claimJob,
  completeJob,
  enqueueJob,
  failJob,
  getJob,
  heartbeatJob,
} from '../../src/jobs/queue.js';
import { startWorker } from '../../src/jobs/worker.js';
import type { Db } from '../../src/store/database.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(20);
  }
}

describeDatabases('job queue', (database) => {
  test('a job is claimed by exactly one of many concurrent claimers', async () => {
    const { db } = database();
    await resetDatabase(db);
    for (let i = 0; i < 6; i++) await enqueueJob(db, 'noop', { i });
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, w) => claimJob(db, `w${w}`, ['noop'], 10_000)),
    );
    const taken = claims.filter((c) => c !== null).map((c) => c!.id);
    assert.equal(taken.length, 6);
    assert.equal(new Set(taken).size, 6, 'no job taken twice');
    assert.equal(await claimJob(db, 'late', ['noop'], 10_000), null);
    // kinds filter
    await enqueueJob(db, 'other', {});
    assert.equal(await claimJob(db, 'x', ['noop'], 10_000), null);
    assert.equal((await claimJob(db, 'x', ['other'], 10_000))?.kind, 'other');
  });

  test('an expired lease hands the job to another worker; the old worker cannot complete it', async () => {
    const { db } = database();
    await resetDatabase(db);
    const job = await enqueueJob(db, 'train', { n: 1 });
    const first = await claimJob(db, 'dead-worker', ['train'], 50);
    assert.equal(first?.id, job.id);
    assert.equal(first?.attempts, 1);
    await sleep(120);
    const second = await claimJob(db, 'live-worker', ['train'], 10_000);
    assert.equal(second?.id, job.id);
    assert.equal(second?.attempts, 2);
    assert.equal(await heartbeatJob(db, job.id, 'dead-worker', 1000), false);
    assert.equal(await completeJob(db, job.id, 'dead-worker', { stale: true }), false);
    assert.equal(await completeJob(db, job.id, 'live-worker', { ok: true }), true);
    const done = await getJob(db, job.id);
    assert.equal(done?.status, 'DONE');
    assert.deepEqual(done?.result, { ok: true });
  });

  test('retryable failures back off and end FAILED when attempts are spent; cancel stops a job', async () => {
    const { db } = database();
    await resetDatabase(db);
    const job = await enqueueJob(db, 'flaky', {}, { maxAttempts: 2 });
    await claimJob(db, 'w', ['flaky'], 10_000);
    assert.equal(await failJob(db, job.id, 'w', 'boom 1', { retryable: true }), 'QUEUED');
    // Backoff: not runnable right away.
    assert.equal(await claimJob(db, 'w', ['flaky'], 10_000), null);
    await sql`update job set run_at = now() where id = ${job.id}`.execute(db);
    await claimJob(db, 'w', ['flaky'], 10_000);
    assert.equal(await failJob(db, job.id, 'w', 'boom 2', { retryable: true }), 'FAILED');
    const failed = await getJob(db, job.id);
    assert.equal(failed?.lastError, 'boom 2');
    assert.equal(failed?.attempts, 2);

    const other = await enqueueJob(db, 'flaky', {});
    assert.equal(await cancelJob(db, other.id), true);
    assert.equal((await getJob(db, other.id))?.status, 'CANCELLED');
    assert.equal(await claimJob(db, 'w', ['flaky'], 10_000), null);
    assert.equal(await cancelJob(db, other.id), false, 'a finished job cannot be cancelled again');
  });

  test('the worker runs tasks, fails bad input at once, and aborts a cancelled job', async () => {
    const { db } = database();
    await resetDatabase(db);
    let sawAbort = false;
    const worker = startWorker({
      db,
      logger,
      pollMs: 30,
      leaseMs: 150,
      tasks: {
        double: async (job) => ({ value: (job.payload as { x: number }).x * 2 }),
        reject: async () => {
          throw new BadInputError('fewer than two FAST materials');
        },
        long: async (_job, { signal }) => {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          sawAbort = true;
          throw new Error('aborted');
        },
      },
    });
    try {
      const a = await enqueueJob(db, 'double', { x: 21 });
      const b = await enqueueJob(db, 'reject', {});
      const doneA = await waitFor(async () => {
        const j = await getJob(db, a.id);
        return j?.status === 'DONE' ? j : null;
      });
      assert.deepEqual(doneA.result, { value: 42 });
      const doneB = await waitFor(async () => {
        const j = await getJob(db, b.id);
        return j?.status === 'FAILED' ? j : null;
      });
      assert.equal(doneB.attempts, 1, 'bad input is not retried');
      assert.match(doneB.lastError ?? '', /fewer than two FAST/);

      const c = await enqueueJob(db, 'long', {});
      await waitFor(async () => (await getJob(db, c.id))?.status === 'RUNNING');
      await cancelJob(db, c.id);
      await waitFor(async () => sawAbort);
      assert.equal((await getJob(db, c.id))?.status, 'CANCELLED');
    } finally {
      await worker.stop();
    }
  });

  test('the worker reaps expired leases at most every reapMs, not on every poll', async () => {
    const { db } = database();
    await resetDatabase(db);
    // Counts the worker's statements by their SQL: claims (every poll) and reaps.
    const counts = { claims: 0, reaps: 0 };
    const counter: KyselyPlugin = {
      transformQuery(args: { node: RootOperationNode }) {
        const text = JSON.stringify(args.node);
        if (text.includes('for update skip locked')) counts.claims++;
        if (text.includes('stopped heartbeating')) counts.reaps++;
        return args.node;
      },
      async transformResult(args) {
        return args.result;
      },
    };
    const counted = db.withPlugin(counter) as Db;
    // A job whose worker died: its lease expired before the worker starts.
    const dead = await enqueueJob(db, 'elsewhere', {});
    await claimJob(db, 'dead-worker', ['elsewhere'], 1);
    await sleep(20);
    const reapMs = 400;
    const started = performance.now();
    const worker = startWorker({ db: counted, logger, pollMs: 10, leaseMs: 10_000, reapMs, tasks: { noop: async () => null } });
    try {
      // Reaped before the first claim: a restarted worker frees what a dead one held at once.
      await waitFor(async () => (await getJob(db, dead.id))?.status === 'QUEUED', 2000);
      await waitFor(async () => counts.claims >= 20);
      const elapsed = performance.now() - started;
      assert.ok(counts.reaps >= 1, 'reaped at start');
      assert.ok(
        counts.reaps <= Math.floor(elapsed / reapMs) + 1,
        `${counts.reaps} reaps in ${Math.round(elapsed)} ms of polling (${counts.claims} claims), at most one per ${reapMs} ms`,
      );
      // A lease that expires later is reaped at a later reap, within about reapMs.
      const late = await enqueueJob(db, 'elsewhere', {});
      await claimJob(db, 'dead-worker', ['elsewhere'], 1);
      await waitFor(async () => (await getJob(db, late.id))?.status === 'QUEUED', reapMs + 3000);
    } finally {
      await worker.stop();
    }
  });
});
