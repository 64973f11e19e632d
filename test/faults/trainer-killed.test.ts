/**
 * Trainer workers that die or hang mid-job, with real processes on the real PostgreSQL:
 * - `ionsieve trainer` A takes a training job and is SIGKILLed mid-fit; worker B takes the job
 *   once A's lease has expired and finishes it;
 * - A is paused (SIGSTOP) mid-fit past its lease, B takes the job over, then A resumes (SIGCONT):
 *   A gives the job up without writing anything, B's run is the one committed.
 * Throughout, another connection polls that no partial model (READY without all its embeddings),
 * no embeddings of the unfinished model and no mixed training curve are ever visible; the job
 * completes exactly once (two attempts recorded). The in-process variant (a worker *stopped*
 * mid-fit) is in test/trainer/train-model.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { getJob, type JobRecord } from '../../src/jobs/queue.js';
import { getModel, requestTraining, type ModelRecord } from '../../src/services/models.js';
import type { Db } from '../../src/store/database.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/database.js';
import { findEmbeddingRows } from '../../src/store/embedding.repository.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresTestDatabase, type PostgresTestDatabase } from '../support/databases.js';
import { startTrainer, stopAllIonsieve, type IonsieveProcess } from '../support/processes.js';
import { seedTinySet, sleep, TINY_TRAINING, waitFor, type TinySet } from '../trainer/support.js';

const SKIP = process.env.DATABASE_URL
  ? false
  : 'DATABASE_URL is not set: this test runs `ionsieve trainer` processes against a real PostgreSQL (CI sets it)';

/** Long enough that a worker is surely mid-fit when it is killed or paused (~30 ms an epoch here), short enough to redo. */
const EPOCHS = 150;
/** Short, so B takes over soon; heartbeats every lease/3 = 2 s keep A's lease on a loaded machine. */
const LEASE_SECONDS = 6;
const TRAINER = { leaseSeconds: LEASE_SECONDS, pollSeconds: 0.5 };

/**
 * Polls what any other connection sees of a model (status, embedding count and curve from one
 * snapshot) until stopped; records every state that must never be visible.
 */
function watchModel(db: Db, modelId: string, structures: number) {
  const seen = new Set<string>();
  const violations: string[] = [];
  let watching = true;
  const done = (async () => {
    while (watching) {
      const { rows } = await sql<{ status: string; embeddings: string; epochs: number[] | null }>`
        select status, (select count(*) from embedding e where e.model_id = m.id) as embeddings,
          (select jsonb_agg(p->'epoch') from jsonb_array_elements(m.training_curve) p) as epochs
        from model m where id = ${modelId}`.execute(db);
      const { status, epochs } = rows[0]!;
      const embeddings = Number(rows[0]!.embeddings);
      seen.add(status);
      if (status === 'READY' ? embeddings !== structures : embeddings !== 0) violations.push(`${status} with ${embeddings} embeddings`);
      // One attempt's curve at a time: epochs 1..n, never another worker's points mixed in.
      if (epochs && epochs.some((e, i) => e !== i + 1)) violations.push(`curve epochs ${JSON.stringify(epochs)}`);
      await sleep(25);
    }
  })();
  return {
    seen,
    violations,
    async stop() {
      watching = false;
      await done;
    },
  };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('trainer workers killed or paused mid-job (processes, PostgreSQL)', { skip: SKIP }, () => {
  let created: PostgresTestDatabase;
  let opened: OpenedDatabase;
  let set: TinySet;

  before(async () => {
    created = await createPostgresTestDatabase();
    opened = await openDatabase({ databaseUrl: created.url });
    await migrateToLatest(opened.db);
    set = await seedTinySet(opened.db, { fast: 5, poor: 5, unlabelled: 3 });
  });

  after(async () => {
    await stopAllIonsieve();
    await opened?.close();
    await created?.drop();
  });

  async function queueTraining(name: string) {
    const model = await requestTraining(opened.db, { ...TINY_TRAINING, name, maxEpochs: EPOCHS, patience: 100 });
    const { rows } = await sql<{ id: string }>`select id from job where kind = 'train_model' and payload->>'modelId' = ${model.id}`.execute(opened.db);
    assert.equal(rows.length, 1, 'one training job per model');
    return { modelId: model.id, jobId: String(rows[0]!.id) };
  }

  /** Waits until `workerId` holds the job and has recorded two epochs of a fit that is not finished. */
  async function midFit(modelId: string, jobId: string, workerId: string): Promise<ModelRecord> {
    const model = await waitFor(`${workerId} to train two epochs`, async () => {
      const m = await getModel(opened.db, modelId);
      return m && m.status === 'TRAINING' && (m.progress?.epoch ?? 0) >= 2 ? m : null;
    }, 180_000);
    assert.ok(model.progress!.epoch < EPOCHS, 'still mid-fit');
    const job = (await getJob(opened.db, jobId))!;
    assert.equal(job.status, 'RUNNING');
    assert.equal(job.lockedBy, workerId);
    return model;
  }

  /** The lease of a job held by a worker that has stopped heartbeating (its last beat may have landed just before). */
  async function strandedLeaseEnd(jobId: string, workerId: string): Promise<number> {
    const job = (await getJob(opened.db, jobId))!;
    assert.equal(job.status, 'RUNNING', 'the job keeps its lease until it expires');
    assert.equal(job.lockedBy, workerId);
    return job.lockedUntil!.getTime();
  }

  async function readyAndDone(modelId: string, jobId: string): Promise<{ model: ModelRecord; job: JobRecord }> {
    const model = await waitFor('the model to be READY or FAILED', async () => {
      const m = await getModel(opened.db, modelId);
      return m && (m.status === 'READY' || m.status === 'FAILED') ? m : null;
    }, 240_000);
    assert.equal(model.status, 'READY', model.error ?? '');
    const job = await waitFor('the job to be recorded DONE', async () => {
      const j = await getJob(opened.db, jobId);
      return j?.status === 'DONE' ? j : null;
    });
    return { model, job };
  }

  /** What holds after either fault: two attempts, one commit (B's), a complete model. */
  async function assertFinishedOnceByB(
    ids: { modelId: string; jobId: string },
    a: { proc: IonsieveProcess; workerId: string },
    b: { proc: IonsieveProcess; workerId: string },
    done: { model: ModelRecord; job: JobRecord },
  ) {
    assert.equal(done.job.attempts, 2);
    assert.match(done.job.lastError ?? '', new RegExp(`lease expired after 1 attempt\\(s\\): worker ${escape(a.workerId)} stopped heartbeating`));
    const commits = [...a.proc.logs, ...b.proc.logs].filter((l) => l.msg === 'model READY' && l.modelId === ids.modelId);
    assert.equal(commits.length, 1, 'one commit');
    assert.equal(commits[0]!.workerId, b.workerId, "B's commit");
    assert.equal(a.proc.logs.filter((l) => l.msg === 'job started' && l.jobId === ids.jobId).length, 1);
    assert.equal(b.proc.logs.filter((l) => l.msg === 'job started' && l.jobId === ids.jobId).length, 1);
    // The worker logs 'job done' just after recording DONE; its line may still be on its way from the child.
    const doneLine = await waitFor("B's 'job done' log line", async () => b.proc.logs.find((l) => l.msg === 'job done' && l.jobId === ids.jobId) ?? null);
    assert.equal(doneLine.recorded, true);
    // B's curve only (epochs 1..n once), the label snapshot of the first attempt, every structure embedded.
    const epochs = done.model.trainingCurve.map((p) => p.epoch);
    assert.deepEqual(epochs, Array.from({ length: epochs.length }, (_, i) => i + 1));
    assert.deepEqual(done.model.labelCounts, { fast: 5, poor: 5 });
    const embedded = await findEmbeddingRows(opened.db, ids.modelId, set.embeddable.map((m) => m.id));
    assert.equal(embedded.length, set.embeddable.length);
  }

  test('SIGKILL mid-epoch: worker B takes the job after the lease, finishes it once; nothing partial is ever visible', async (t) => {
    const ids = await queueTraining('killed mid-job');
    const watch = watchModel(opened.db, ids.modelId, set.embeddable.length);
    try {
      const a = await startTrainer('trainer A', created.url, TRAINER);
      const training = await midFit(ids.modelId, ids.jobId, a.workerId);
      assert.equal(training.isActive, false);

      const killedAt = Date.now();
      const exit = await a.proc.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      const leaseEnd = await strandedLeaseEnd(ids.jobId, a.workerId);
      const afterKill = (await getModel(opened.db, ids.modelId))!;
      assert.equal(afterKill.status, 'TRAINING');

      const b = await startTrainer('trainer B', created.url, TRAINER);
      const started = await b.proc.waitForLog('the job started', (l) => l.msg === 'job started' && l.jobId === ids.jobId, 180_000);
      assert.equal(started.attempt, 2, 'B runs the second attempt');
      assert.ok(started.time >= leaseEnd, `B took the job ${leaseEnd - started.time} ms before A's lease ended`);

      const done = await readyAndDone(ids.modelId, ids.jobId);
      await watch.stop();
      t.diagnostic(
        `A killed at epoch ${afterKill.trainingCurve.length}/${EPOCHS}; lease ended ${leaseEnd - killedAt} ms after the kill; ` +
          `B claimed ${started.time - killedAt} ms after it and committed READY ${done.model.finishedAt!.getTime() - started.time} ms after claiming (${done.model.trainingCurve.length} epochs)`,
      );
      assert.deepEqual(watch.violations, [], 'a partial model or embeddings of an unfinished model were visible');
      assert.ok(watch.seen.has('TRAINING'), 'the watcher saw the model TRAINING');
      await assertFinishedOnceByB(ids, a, b, done);
      assert.equal(done.model.isActive, true, 'the first model becomes active');
    } finally {
      await watch.stop();
      await stopAllIonsieve();
    }
  });

  test('paused past its lease (SIGSTOP), B takes over, A resumes (SIGCONT): A writes nothing, B commits once', async (t) => {
    const ids = await queueTraining('paused mid-job');
    const watch = watchModel(opened.db, ids.modelId, set.embeddable.length);
    try {
      const a = await startTrainer('trainer A', created.url, TRAINER);
      await midFit(ids.modelId, ids.jobId, a.workerId);
      process.kill(a.proc.pid, 'SIGSTOP');
      const pausedAt = Date.now();
      const leaseEnd = await strandedLeaseEnd(ids.jobId, a.workerId);

      const b = await startTrainer('trainer B', created.url, TRAINER);
      const started = await b.proc.waitForLog('the job started', (l) => l.msg === 'job started' && l.jobId === ids.jobId, 180_000);
      assert.equal(started.attempt, 2);
      assert.ok(started.time >= leaseEnd, `B took the job ${leaseEnd - started.time} ms before A's lease ended`);
      // B is mid-fit when A wakes up, with A's timers and next training step all due at once.
      // ('training started' follows B's reset of the model; A's old progress no longer counts.)
      await b.proc.waitForLog("B's training start", (l) => l.msg === 'training started' && l.modelId === ids.modelId);
      await midFit(ids.modelId, ids.jobId, b.workerId);
      process.kill(a.proc.pid, 'SIGCONT');
      const resumedAt = Date.now();
      const gaveUp = await a.proc.waitForLog('A to give the job up', (l) => l.jobId === ids.jobId && /^job lost/.test(l.msg), 120_000);

      const done = await readyAndDone(ids.modelId, ids.jobId);
      await watch.stop();
      t.diagnostic(
        `A paused ${resumedAt - pausedAt} ms; B claimed ${started.time - pausedAt} ms after the pause; ` +
          `A gave the job up ${gaveUp.time - resumedAt} ms after resuming; B committed ${done.model.finishedAt!.getTime() - started.time} ms after claiming`,
      );
      assert.deepEqual(watch.violations, []);
      await assertFinishedOnceByB(ids, a, b, done);
      assert.equal(a.proc.exit, null, 'A runs on as a healthy worker');
      assert.deepEqual(a.proc.logs.filter((l) => l.level >= 50).map((l) => l.msg), [], 'A logged no error');
    } finally {
      await watch.stop();
    }
  });
});
