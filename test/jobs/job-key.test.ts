/** enqueueJobOnce: at most one QUEUED job per (kind, key), decided by the database, also across transactions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimJob, enqueueJobOnce } from '../../src/jobs/queue.js';
import { inTransaction } from '../../src/store/database.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';

describeDatabases('job keys', (database) => {
  test('a second job with the key of a queued one is not queued; once claimed, the key is free again', async () => {
    const { db } = database();
    await resetDatabase(db);
    const first = await enqueueJobOnce(db, 'noop', { n: 1 }, 'k');
    assert.ok(first);
    assert.equal(await enqueueJobOnce(db, 'noop', { n: 2 }, 'k'), null);
    assert.ok(await enqueueJobOnce(db, 'noop', { n: 3 }, 'other key'));
    assert.ok(await enqueueJobOnce(db, 'other kind', { n: 4 }, 'k'), 'keys are per kind');
    const claimed = await claimJob(db, 'w', ['noop'], 10_000);
    assert.equal(claimed?.id, first.id);
    assert.ok(await enqueueJobOnce(db, 'noop', { n: 5 }, 'k'), 'the claimed job no longer holds its key');
  });

  test('a job enqueued in a transaction that rolls back is gone with it', async () => {
    const { db } = database();
    await resetDatabase(db);
    await assert.rejects(
      inTransaction(db, async (tx) => {
        assert.ok(await enqueueJobOnce(tx, 'noop', {}, 'k'));
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.ok(await enqueueJobOnce(db, 'noop', {}, 'k'), 'nothing holds the key');
  });
});
