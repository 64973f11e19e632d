/**
 * The imports queue the embedding of their new materials in the transaction of their last insert
 * (with the job key), not after it: the job and the materials commit together. Checked with `xmin`,
 * the id of the transaction that wrote a row (PGlite is PostgreSQL too).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { EMBED_MATERIALS_TASK } from '../../src/jobs/tasks.js';
import { importFiles } from '../../src/services/ingest.js';
import { runOptimadeImport, startOptimadeImport } from '../../src/services/optimade-import.js';
import type { Db } from '../../src/store/database.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { startOptimadeServer, syntheticEntry, type OptimadeFixtureServer } from '../support/optimade-server.js';
import { cubicStructureJson } from '../support/structures.js';
import { insertModel } from '../screening/fixtures.js';

const WORKER = 'test-worker';

/** The embed_materials jobs, with the transaction that wrote each. */
async function embedJobs(db: Db): Promise<{ job_key: string | null; payload: { modelId?: string }; tx: string }[]> {
  const { rows } = await sql<{ job_key: string | null; payload: { modelId?: string }; tx: string }>`
    select job_key, payload, xmin::text as tx from job where kind = ${EMBED_MATERIALS_TASK} order by id`.execute(db);
  return rows;
}

/** The transactions that wrote the materials, newest material last. */
async function materialTransactions(db: Db): Promise<string[]> {
  const { rows } = await sql<{ tx: string }>`select xmin::text as tx from material order by id`.execute(db);
  return rows.map((r) => r.tx);
}

describeDatabases('imports queue the embedding job in their last insert transaction', (database) => {
  let dir: string;
  let server: OptimadeFixtureServer | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ionsieve-import-job-'));
    const anions = ['F', 'Cl', 'Br', 'I', 'S'];
    anions.forEach((x, i) => writeFileSync(join(dir, `s${i}.json`), cubicStructureJson(4.4 + 0.1 * i, ['Li', x])));
  });
  beforeEach(async () => {
    await resetDatabase(database().db);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server?.close();
  });

  test('importFiles: the last batch carries the job; a re-import that adds nothing queues none', async () => {
    const { db } = database();
    const modelId = await insertModel(db, { dim: 3, active: true });
    const result = await importFiles(db, [dir], { batchSize: 2 });
    assert.equal(result.ok, 5);
    assert.equal(result.embeddingQueued, true);
    const txs = await materialTransactions(db);
    assert.equal(new Set(txs).size, 3, 'three batches: 2 + 2 + 1');
    const jobs = await embedJobs(db);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.job_key, `model:${modelId}`);
    assert.equal(jobs[0]!.payload.modelId, modelId);
    assert.equal(jobs[0]!.tx, txs.at(-1), 'queued in the transaction of the last batch');

    const again = await importFiles(db, [dir], { batchSize: 2 });
    assert.equal(again.ok, 0);
    assert.equal(again.embeddingQueued, false);
    assert.equal((await embedJobs(db)).length, 1);
  });

  test('importFiles: a full last batch still carries the job (no empty final write)', async () => {
    const { db } = database();
    await insertModel(db, { dim: 3, active: true });
    const result = await importFiles(db, [dir], { batchSize: 5 });
    assert.equal(result.ok, 5);
    const txs = await materialTransactions(db);
    assert.equal(new Set(txs).size, 1);
    assert.equal((await embedJobs(db))[0]?.tx, txs[0]);
  });

  test('importFiles without an active model queues nothing', async () => {
    const { db } = database();
    const result = await importFiles(db, [dir], { batchSize: 2 });
    assert.equal(result.ok, 5);
    assert.equal(result.embeddingQueued, false);
    assert.deepEqual(await embedJobs(db), []);
  });

  test('runOptimadeImport: the last page carries the job', async () => {
    const { db } = database();
    const modelId = await insertModel(db, { dim: 3, active: true });
    server = await startOptimadeServer({ entries: { count: 25, make: (i) => syntheticEntry(i) } });
    const job = await startOptimadeImport(
      db,
      { baseUrl: server.baseUrl, pageLimit: 10 },
      { allowedHosts: [server.host], actor: 'importer', runHere: { workerId: WORKER, leaseMs: 60_000 } },
    );
    let queued = 0;
    const result = await runOptimadeImport(db, job.payload, null, {
      jobId: job.id,
      workerId: WORKER,
      allowedHosts: [server.host],
      maxSites: 2000,
      maxTextBytes: 5 * 1024 * 1024,
      http: { baseDelayMs: 1, maxDelayMs: 20, maxRetries: 3 },
      onEmbeddingQueued: () => queued++,
    });
    assert.equal(result.imported, 25);
    assert.equal(queued, 1);
    const txs = await materialTransactions(db);
    assert.equal(new Set(txs).size, 3, 'three pages');
    const jobs = await embedJobs(db);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.job_key, `model:${modelId}`);
    assert.equal(jobs[0]!.tx, txs.at(-1), 'queued in the transaction of the last page');
  });
});
