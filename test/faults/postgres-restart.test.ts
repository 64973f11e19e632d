/**
 * Fault: PostgreSQL stops and starts again while ionsieve runs. On a private PostgreSQL 15 cluster
 * (test/support/private-postgres.ts; the machine's shared server is never touched) this runs the
 * server, an in-process trainer worker and a trainingProgress subscription, stops the cluster
 * (`pg_ctl stop -m fast`: every connection is terminated) and checks that
 * - nothing crashes: lost idle pool connections, a connection lost inside a transaction and the
 *   LISTEN connection are all survived;
 * - requests fail fast with `DATABASE_UNAVAILABLE` and a message saying the database is
 *   unreachable (not a masked internal error, not a hang): an anonymous read during execution
 *   (HTTP 200, as any GraphQL error), a curator's mutation already while its token is checked
 *   (HTTP 503, Retry-After); /readyz says 503, /healthz 200;
 * - the worker and the LISTEN connection keep retrying;
 * and after the start, without restarting anything: requests succeed, the LISTEN connection is
 * back (a NOTIFY arrives), the subscription that was open all along delivers the training the
 * worker then runs, through READY.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import { sql } from 'kysely';
import pg from 'pg';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src/server.js';
import { requestTraining } from '../../src/services/models.js';
import { createApiToken } from '../../src/services/tokens.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { isDatabaseUnavailable } from '../../src/store/unavailable.js';
import { startTrainerWorker } from '../../trainer/worker.js';
import type { RunningWorker } from '../../src/jobs/worker.js';
import { captureLogger, testConfig } from '../graphql/harness.js';
import { privatePostgresSkipReason, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { seedTinySet, TINY_TRAINING } from '../trainer/support.js';

const skip = privatePostgresSkipReason();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (generous: the machine may be busy). */
async function until<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let cluster: PrivatePostgres | undefined;
let opened: OpenedDatabase | undefined;
let server: RunningServer | undefined;
let worker: RunningWorker | undefined;
let ws: Client | undefined;
const { logger, lines } = captureLogger('info');

after(async () => {
  await ws?.dispose();
  await server?.close();
  await worker?.stop();
  await opened?.close();
  await cluster?.destroy();
});

test('PostgreSQL restarted while ionsieve runs: clear errors during the outage, full recovery after', { skip, timeout: 600_000 }, async (t) => {
  cluster = await startPrivatePostgres();
  const url = await cluster.createDatabase('ionsieve_faults');
  opened = await openDatabase({ databaseUrl: url, logger });
  const { db } = opened;
  await migrateToLatest(db);
  const set = await seedTinySet(db, { fast: 4, poor: 4, unlabelled: 2 });
  const curator = (await createApiToken(db, { name: 'faults', role: 'curator' })).secret;
  // A training that waits (its job is not due) until the database has come back.
  const model = await requestTraining(db, { ...TINY_TRAINING, name: 'trained after the outage' });
  await sql`update job set run_at = now() + interval '1 day' where kind = 'train_model'`.execute(db);

  server = await startServer({ db, config: { ...testConfig, host: '127.0.0.1', port: 0 }, logger, listen: opened.listen });
  worker = startTrainerWorker({ db, logger, listen: opened.listen, pollMs: 500, sweepMs: 3_600_000 });
  const post = async (query: string, variables?: Record<string, unknown>, token?: string) => {
    const response = await fetch(server!.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000), // a hang fails the test instead of stalling it
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  const COUNT = '{ materials { totalCount } }';
  const LABEL = 'mutation($id: ID!) { labelMaterial(input: { materialId: $id, class: POOR }) { id } }';
  const baseline = await post(COUNT);
  assert.equal(baseline.body.errors, undefined, JSON.stringify(baseline.body));
  const materialCount = baseline.body.data.materials.totalCount;
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);

  // A NOTIFY probe on the shared LISTEN connection, and a subscription open across the outage.
  const probe: string[] = [];
  await opened.listen!('ionsieve_fault_probe', (payload) => probe.push(payload));
  const events: { status: string }[] = [];
  let subscriptionEnd: 'complete' | 'error' | undefined;
  let subscriptionError: unknown;
  ws = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  ws.subscribe(
    { query: 'subscription($id: ID!) { trainingProgress(modelId: $id) { status } }', variables: { id: model.id } },
    {
      next: (result) => {
        if (result.errors) subscriptionError = result.errors;
        else events.push((result.data as any).trainingProgress);
      },
      error: (error) => {
        subscriptionEnd = 'error';
        subscriptionError = error;
      },
      complete: () => (subscriptionEnd ??= 'complete'),
    },
  );
  await until('the first subscription event', () => events.length >= 1);
  assert.equal(events[0]!.status, 'QUEUED');

  // Connections in use when the server goes: a transaction between two statements, a running query.
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  let insideTx!: () => void;
  const txOpen = new Promise<void>((resolve) => (insideTx = resolve));
  let releaseTx!: () => void;
  const txMayGoOn = new Promise<void>((resolve) => (releaseTx = resolve));
  const transaction = db.transaction().execute(async (tx) => {
    await sql`select 1`.execute(tx);
    insideTx();
    await txMayGoOn;
    await sql`select 1`.execute(tx);
  });
  transaction.catch(() => {});
  await txOpen;
  const running = client.query('select pg_sleep(600)');
  running.catch(() => {});

  await t.test('outage', async () => {
    await cluster!.stop('fast');
    releaseTx();
    const txError = await transaction.then(() => undefined, (error: unknown) => error);
    assert.ok(isDatabaseUnavailable(txError), `a transaction cut off by the shutdown: ${String(txError)}`);
    const queryError = await running.then(() => undefined, (error: unknown) => error);
    assert.ok(isDatabaseUnavailable(queryError), `a query cut off by the shutdown: ${String(queryError)}`);

    const read = await post(COUNT);
    assert.equal(read.status, 200);
    assert.equal(read.body.data, null);
    assert.equal(read.body.errors.length, 1, JSON.stringify(read.body));
    assert.equal(read.body.errors[0].extensions.code, 'DATABASE_UNAVAILABLE');
    assert.match(read.body.errors[0].message, /database is unreachable/i);
    assert.match(read.body.errors[0].extensions.requestId, /^[0-9a-f-]{36}$/);
    const write = await post(LABEL, { id: set.unlabelled[0]!.id }, curator);
    assert.equal(write.status, 503);
    assert.equal(write.headers.get('retry-after'), '5');
    assert.equal(write.body.errors[0].extensions.code, 'DATABASE_UNAVAILABLE', JSON.stringify(write.body));
    assert.match(write.body.errors[0].message, /database is unreachable/i);

    // A subscription started during the outage is refused with the same code (over graphql-ws).
    const refused = await new Promise<any>((resolve, reject) => {
      let value: unknown;
      ws!.subscribe(
        { query: 'subscription($id: ID!) { trainingProgress(modelId: $id) { status } }', variables: { id: model.id } },
        { next: (result) => (value = result), error: reject, complete: () => resolve(value) },
      );
    });
    assert.equal(refused.errors?.[0]?.extensions?.code, 'DATABASE_UNAVAILABLE', JSON.stringify(refused));

    const ready = await fetch(`${server!.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as any).status, 'unavailable');
    assert.equal((await fetch(`${server!.url}/healthz`)).status, 200);

    // The worker and the LISTEN connection notice the outage and keep retrying.
    await until('the worker to retry its claim', () => lines.some((l) => l.msg === 'claim failed; retrying after poll interval'));
    await until('a LISTEN reconnect attempt', () => lines.filter((l) => l.msg === 'LISTEN connection failed; reconnecting').length >= 2);
    assert.ok(lines.some((l) => l.msg === 'database unavailable' && l.level === 40), 'the outage is logged as a warning');
    assert.ok(!lines.some((l) => l.msg === 'unexpected error while executing GraphQL operation'), 'no request is reported as a bug');
    assert.equal(subscriptionEnd, undefined, `the subscription stays open: ${JSON.stringify(subscriptionError)}`);
  });

  await t.test('recovery without a restart of ionsieve', async () => {
    await cluster!.start();
    const read = await until('a successful read', async () => {
      const result = await post(COUNT);
      return result.body.errors ? undefined : result;
    });
    assert.equal(read.body.data.materials.totalCount, materialCount);
    await until('/readyz 200', async () => (await fetch(`${server!.url}/readyz`)).status === 200);
    const write = await post(LABEL, { id: set.unlabelled[0]!.id }, curator);
    assert.equal(write.body.errors, undefined, JSON.stringify(write.body));

    // The LISTEN connection is back: the reconnect wake-up, then a NOTIFY sent now.
    // Two wake-ups with an empty payload: one when the connection was lost, one when it came back.
    await until('the LISTEN reconnect', () => probe.filter((p) => p === '').length >= 2);
    assert.ok(lines.some((l) => l.msg === 'LISTEN connection restored'));
    await sql`select pg_notify('ionsieve_fault_probe', 'after the restart')`.execute(db);
    await until('a NOTIFY after the restart', () => probe.includes('after the restart'));

    // The worker, alive all along, trains the model now due; the subscription sees it to the end.
    await sql`update job set run_at = now() where kind = 'train_model'`.execute(db);
    await sql`select pg_notify('ionsieve_jobs', 'train_model')`.execute(db);
    await until('the subscription to complete', () => subscriptionEnd, 300_000);
    assert.equal(subscriptionEnd, 'complete', JSON.stringify(subscriptionError));
    assert.equal(subscriptionError, undefined, JSON.stringify(subscriptionError));
    assert.equal(events.at(-1)!.status, 'READY', JSON.stringify(events));
    assert.ok(events.some((e) => e.status === 'TRAINING'), JSON.stringify(events));
  });
  await client.end().catch(() => {});
});
