/** LISTEN/NOTIFY on both dialects, and the PostgreSQL listener's reconnect after its connection dies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createPostgresListener } from '../../src/store/listen.js';
import { describeDatabases } from '../support/databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describeDatabases('listen', (database) => {
  test('a NOTIFY reaches the subscribers of its channel only, including one sent inside a committed transaction', async () => {
    const { db, listen } = database();
    assert.ok(listen, 'openDatabase provides listen');
    const a: string[] = [];
    const b: string[] = [];
    const stopA = await listen('ionsieve_test_a', (p) => a.push(p));
    const stopB = await listen('ionsieve_test_b', (p) => b.push(p));
    await sql`select pg_notify('ionsieve_test_a', 'one')`.execute(db);
    await db.transaction().execute(async (tx) => {
      await sql`select pg_notify('ionsieve_test_a', 'two')`.execute(tx);
    });
    // A rolled-back transaction's notification is never delivered.
    await db
      .transaction()
      .execute(async (tx) => {
        await sql`select pg_notify('ionsieve_test_a', 'rolled back')`.execute(tx);
        throw new Error('roll back');
      })
      .catch(() => {});
    await until('both notifications', () => a.length >= 2);
    await sleep(100);
    assert.deepEqual(a, ['one', 'two']);
    assert.deepEqual(b, []);

    await stopA();
    await sql`select pg_notify('ionsieve_test_a', 'after unlisten')`.execute(db);
    await sql`select pg_notify('ionsieve_test_b', 'to b')`.execute(db);
    await until('the notification to b', () => b.length === 1);
    assert.deepEqual(a, ['one', 'two']);
    await stopB();
  });

  test('channel names are checked before they reach SQL', async () => {
    const { listen } = database();
    await assert.rejects(listen!('bad; drop table job', () => {}), /invalid NOTIFY channel/);
  });
});

test('PostgreSQL listener: reconnects after its connection is killed, tells subscribers, and keeps delivering', { skip: !process.env.DATABASE_URL }, async () => {
  const url = process.env.DATABASE_URL!;
  const errors: Error[] = [];
  const listener = createPostgresListener(url, { onError: (e) => errors.push(e), reconnectDelayMs: 50 });
  const got: string[] = [];
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await listener.listen('ionsieve_test_reconnect', (p) => got.push(p));
    await admin.query(`select pg_notify('ionsieve_test_reconnect', 'before')`);
    await until('the first notification', () => got.includes('before'));
    // Kill the listener's backend (the only session LISTENing on this channel).
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity
      where pid in (select pid from pg_stat_activity where query ilike 'LISTEN ionsieve_test_reconnect%')`);
    // Two wake-ups: when the connection was lost, and when it is back.
    await until('the loss and the reconnect wake-ups', () => got.filter((p) => p === '').length >= 2);
    await admin.query(`select pg_notify('ionsieve_test_reconnect', 'after')`);
    await until('a notification after the reconnect', () => got.includes('after'));
    assert.ok(errors.length >= 1, 'the lost connection was reported');
  } finally {
    await admin.end();
    await listener.close();
  }
});
