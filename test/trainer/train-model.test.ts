/**
 * The trainer end to end on a real database (PGlite; PostgreSQL too when DATABASE_URL is set):
 * trainModel → worker → READY model with curve, threshold and every embedding in one commit;
 * new materials embedded without a retrain; activation; too few labels; cancellation; a worker
 * stopped mid-fit; a diverging (NaN) training while another model serves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { InvalidJobStateError, ModelNotReadyError, NotFoundError } from '../../src/errors.js';
import { claimJob, getJob } from '../../src/jobs/queue.js';
import type { RunningWorker } from '../../src/jobs/worker.js';
import { labelMaterial } from '../../src/services/screening.js';
import { screen, similarMaterials } from '../../src/services/screening.js';
import { queueEmbeddingOfNewMaterials } from '../../src/services/embeddings.js';
import { nativeKernels } from '../../src/model/native.js';
import {
  activateModel,
  cancelTraining,
  getActiveModel,
  getModel,
  listModels,
  requestTraining,
  TRAIN_MODEL_TASK,
  type ModelRecord,
} from '../../src/services/models.js';
import { beginTraining, failTraining, recordProgress } from '../../src/services/model-training.js';
import { countModelEmbeddings, countStagedEmbeddings, findEmbeddingRows, indexExists, insertStagedEmbeddingRows } from '../../src/store/embedding.repository.js';
import { modelVectorIndexName, parseVectorLiteral } from '../../src/store/vector.js';
import type { Db } from '../../src/store/database.js';
import { startTrainerWorker } from '../../trainer/worker.js';
import type { TrainModelTaskOptions } from '../../trainer/tasks/train-model.js';
import { describeDatabases, resetDatabase, type TestDatabase } from '../support/databases.js';
import { cubicStructureJson } from '../support/structures.js';
import { addStructures, LIMITS, seedTinySet, silentLogger, TINY_TRAINING, waitFor, waitForModelStatus, type TinySet } from './support.js';

async function jobOfModel(db: Db, modelId: string) {
  const { rows } = await sql<{ id: string }>`select id from job where kind = 'train_model' and payload->>'modelId' = ${modelId}`.execute(db);
  assert.equal(rows.length, 1, 'one training job per model');
  return (await getJob(db, String(rows[0]!.id)))!;
}

/** Until no job waits or runs (e.g. the embed_materials job a new active model queues). */
function waitForIdleQueue(db: Db) {
  return waitFor('an idle job queue', async () => {
    const { rows } = await sql<{ n: string }>`select count(*) as n from job where status in ('QUEUED', 'RUNNING')`.execute(db);
    return Number(rows[0]!.n) === 0;
  });
}

async function modelColumns(db: Db, id: string) {
  const { rows } = await sql<{ label_snapshot: string[] | null; weights: unknown }>`select label_snapshot, weights from model where id = ${id}`.execute(db);
  return rows[0]!;
}

describeDatabases('trainer', (database) => {
  let workers: RunningWorker[] = [];
  const startWorker = (db: TestDatabase, opts: { leaseMs?: number } = {}) => {
    const worker = startTrainerWorker({ db: db.db, logger: silentLogger, listen: db.listen, pollMs: 100, leaseMs: opts.leaseMs });
    workers.push(worker);
    return worker;
  };
  const stopWorkers = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  };
  // Workers stop in the inner suite's `after`, which runs before the outer one closes the database.
  describe('life cycle', () => {
    after(stopWorkers);
    let set: TinySet;
    let first: ModelRecord;

    before(async () => {
      await resetDatabase(database().db);
      set = await seedTinySet(database().db, { fast: 4, poor: 4, unlabelled: 2 });
    });

    test('trainModel → a worker trains it: READY, active, curve and threshold, every material embedded in one commit, HNSW index', async () => {
      const { db } = database();
      const queued = await requestTraining(db, TINY_TRAINING, 'tester');
      assert.equal(queued.status, 'QUEUED');
      assert.equal(queued.createdBy, 'tester');
      assert.equal((await jobOfModel(db, queued.id)).status, 'QUEUED', 'the job is queued with the model');

      // Watch what other connections can see while it trains: never some embeddings, never READY without them.
      // (Status and count in one statement, so both come from one snapshot.)
      const seen: { status: string; embeddings: number }[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const { rows } = await sql<{ status: string; embeddings: string }>`
            select status, (select count(*) from embedding e where e.model_id = m.id) as embeddings from model m where id = ${queued.id}`.execute(db);
          seen.push({ status: rows[0]!.status, embeddings: Number(rows[0]!.embeddings) });
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      startWorker(database());
      first = await waitForModelStatus(db, queued.id, ['READY', 'FAILED']);
      watching = false;
      await watcher;
      assert.equal(first.status, 'READY', first.error ?? '');

      for (const s of seen) {
        assert.ok(s.embeddings === 0 || (s.status === 'READY' && s.embeddings === set.embeddable.length), JSON.stringify(s));
      }
      assert.ok(seen.some((s) => s.status === 'TRAINING'), 'the model was seen TRAINING');
      assert.equal(first.isActive, true, 'the first model becomes active');
      assert.deepEqual(first.labelCounts, { fast: 4, poor: 4 });
      assert.deepEqual(first.trainingCurve.map((p) => p.epoch), [1, 2]);
      assert.ok(first.trainingCurve.every((p) => Number.isFinite(p.trainLoss)));
      assert.equal(first.progress?.phase, 'DONE');
      assert.equal(first.progress?.epoch, 2);
      assert.ok(Number.isFinite(first.threshold), 'calibrated threshold');
      assert.deepEqual(first.metrics.map((m) => [m.protocol, m.heldOut, m.n]), [['TRAIN', false, 8]], 'only the fit to the training data');
      assert.equal(first.heldOutMetrics, null);
      assert.match(first.noHeldOutReason ?? '', /evaluation NONE/);
      assert.equal(first.decision?.protocol, 'TRAIN');
      assert.equal(first.decision?.threshold, first.threshold);
      assert.equal(first.embeddingDim, 4);
      assert.equal(first.backend, nativeKernels() ? 'wasm+openblas' : 'wasm'); // OpenBLAS ran the products when built
      assert.ok(first.startedAt && first.finishedAt && first.finishedAt >= first.startedAt);

      // Every material (labelled or not): the structures, and the formula through the composition pathway; each vector has E components.
      const rows = await findEmbeddingRows(db, first.id, set.embeddable.map((m) => m.id));
      assert.equal(rows.length, set.embeddable.length);
      assert.equal(await countModelEmbeddings(db, first.id), set.embeddable.length);
      assert.equal(await countStagedEmbeddings(db, first.id), 0, 'the staged embeddings moved into place at the commit');
      for (const r of rows) assert.equal(parseVectorLiteral(r.vec).length, 4);
      assert.ok(await indexExists(db, modelVectorIndexName(first.id)), 'HNSW index of the model');

      // The label snapshot is the labels current at the start: one per labelled structure.
      const columns = await modelColumns(db, first.id);
      assert.equal(columns.label_snapshot?.length, 8);
      assert.ok(columns.weights, 'weights stored');
      // READY commits inside the task; the job is marked DONE just after the task returns.
      await waitFor('the job to be recorded DONE', async () => (await jobOfModel(db, first.id)).status === 'DONE');
    });

    test('a material added later gets an embedding from the active model, without a retrain', async () => {
      const { db } = database();
      await waitForIdleQueue(db);
      await stopWorkers();
      const [added] = await addStructures(db, 1, 'POOR');
      assert.equal(await queueEmbeddingOfNewMaterials(db), true);
      assert.equal(await queueEmbeddingOfNewMaterials(db), false, 'one waiting job is enough');
      startWorker(database());
      const rows = await waitFor('the new embedding', async () => {
        const found = await findEmbeddingRows(db, first.id, [added!.id]);
        return found.length === 1 ? found : null;
      });
      assert.equal(parseVectorLiteral(rows[0]!.vec).length, 4);
      assert.equal((await listModels(db)).length, 1, 'no new model');
      // The old vectors are untouched and the count is complete again.
      assert.equal(await countModelEmbeddings(db, first.id), set.embeddable.length + 1);
    });

    test('cancelTraining: a queued model and its job; a model mid-training (its worker aborts); not a READY one', async () => {
      const { db } = database();
      await stopWorkers();
      const queued = await requestTraining(db, { ...TINY_TRAINING, name: 'to cancel' });
      // What a worker staged before the cancel is dropped with it.
      await insertStagedEmbeddingRows(db, [{ model_id: queued.id, material_id: set.embeddable[0]!.id, vec: '[1,2,3,4]' }]);
      assert.equal(await countStagedEmbeddings(db, queued.id), 1);
      const cancelled = await cancelTraining(db, queued.id);
      assert.equal(await countStagedEmbeddings(db, queued.id), 0);
      assert.equal(cancelled.status, 'CANCELLED');
      assert.equal((await jobOfModel(db, queued.id)).status, 'CANCELLED');
      await assert.rejects(cancelTraining(db, queued.id), InvalidJobStateError);
      await assert.rejects(cancelTraining(db, first.id), InvalidJobStateError);

      // Mid-training: a long run, cancelled after its first epoch. The heartbeat (every lease/3)
      // finds the job cancelled and aborts fit.
      const long = await requestTraining(db, { ...TINY_TRAINING, name: 'long', maxEpochs: 400, patience: 100 });
      startWorker(database(), { leaseMs: 600 });
      await waitFor('the first epoch', async () => ((await getModel(db, long.id))?.progress?.epoch ?? 0) >= 1);
      await cancelTraining(db, long.id);
      const job = await jobOfModel(db, long.id);
      assert.equal(job.status, 'CANCELLED');
      // The worker is free again: it trains the next model.
      const next = await requestTraining(db, { ...TINY_TRAINING, name: 'second', seed: 11 });
      const second = await waitForModelStatus(db, next.id, ['READY', 'FAILED']);
      assert.equal(second.status, 'READY', second.error ?? '');
      const afterCancel = await getModel(db, long.id);
      assert.equal(afterCancel?.status, 'CANCELLED');
      assert.ok((afterCancel?.trainingCurve.length ?? 0) < 400, 'stopped early');
      assert.equal(await countModelEmbeddings(db, long.id), 0);
      assert.equal(await countStagedEmbeddings(db, long.id), 0);
      assert.equal(second.isActive, false, 'a later model does not replace the active one by itself');
    });

    test('activateModel: only a READY model; exactly one active; the new active model embeds what it lacks', async () => {
      const { db } = database();
      const models = await listModels(db, { status: 'READY' });
      const second = models.find((m) => m.id !== first.id)!;
      const cancelled = (await listModels(db, { status: 'CANCELLED' }))[0]!;
      await assert.rejects(activateModel(db, cancelled.id), ModelNotReadyError);
      await assert.rejects(activateModel(db, '999999'), NotFoundError);

      // A material the second model has not seen (it trained before this was added? no: added now).
      const [fresh] = await addStructures(db, 1, 'FAST');
      const activated = await activateModel(db, second.id);
      assert.equal(activated.isActive, true);
      assert.equal((await getActiveModel(db))?.id, second.id);
      assert.equal((await listModels(db)).filter((m) => m.isActive).length, 1);
      assert.equal((await getModel(db, first.id))?.isActive, false);
      await waitFor('the activated model to embed the new material', async () => (await findEmbeddingRows(db, second.id, [fresh!.id])).length === 1);
      // Re-activating is a no-op.
      assert.equal((await activateModel(db, second.id)).isActive, true);
      // Concurrent activations serialise (advisory lock): both succeed, one model ends active.
      await Promise.all([activateModel(db, first.id), activateModel(db, second.id), activateModel(db, first.id)]);
      assert.equal((await listModels(db)).filter((m) => m.isActive).length, 1);
    });
  });
});

describeDatabases('trainer faults', (database) => {
  let workers: RunningWorker[] = [];
  const startWorker = (opts: { leaseMs?: number; train?: TrainModelTaskOptions } = {}) => {
    const { db, listen } = database();
    const worker = startTrainerWorker({ db, logger: silentLogger, listen, pollMs: 100, leaseMs: opts.leaseMs, train: opts.train });
    workers.push(worker);
    return worker;
  };
  describe('faults', () => {
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
    });

    test('fewer than two labelled materials in a class: FAILED with a clear message, not retried', async () => {
      const { db } = database();
      await resetDatabase(db);
      await seedTinySet(db, { fast: 1, poor: 3, unlabelled: 1 });
      const queued = await requestTraining(db, TINY_TRAINING);
      startWorker();
      const failed = await waitForModelStatus(db, queued.id, ['FAILED', 'READY']);
      assert.equal(failed.status, 'FAILED');
      assert.match(failed.error ?? '', /at least 2 FAST and 2 POOR labelled materials with a structure; found 1 FAST and 3 POOR/);
      assert.deepEqual(failed.labelCounts, { fast: 1, poor: 3 });
      const job = await waitFor('the job to fail', async () => {
        const j = await jobOfModel(db, queued.id);
        return j.status === 'FAILED' ? j : null;
      });
      assert.equal(job.attempts, 1, 'bad input is not retried');
      assert.match(job.lastError ?? '', /found 1 FAST and 3 POOR/);
      assert.equal(await countModelEmbeddings(db, queued.id), 0);
      assert.equal(await getActiveModel(db), null);
    });

    test('a worker stopped mid-fit leaves no model or embeddings; another worker finishes from the same label snapshot', async () => {
      const { db } = database();
      await resetDatabase(db);
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      const set = await seedTinySet(db, { fast: 4, poor: 4, unlabelled: 1 });
      const queued = await requestTraining(db, { ...TINY_TRAINING, maxEpochs: 8, patience: 8 });
      // The dying worker holds its job after the first epoch until it is stopped: a tiny fit can
      // finish all its epochs between two polls, so the stop must not race the training.
      const dying = startWorker({
        leaseMs: 900,
        train: { afterEpochRecorded: (_epoch, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) },
      });
      await waitFor('the first epoch', async () => ((await getModel(db, queued.id))?.progress?.epoch ?? 0) >= 1);
      await dying.stop();

      const stranded = await getModel(db, queued.id);
      assert.equal(stranded?.status, 'TRAINING');
      assert.equal(await countModelEmbeddings(db, queued.id), 0);
      assert.equal((await modelColumns(db, queued.id)).weights, null);
      assert.equal((await jobOfModel(db, queued.id)).status, 'RUNNING', 'the job keeps its lease until it expires');

      // Labels change while the job is stranded; the retry must still train on the original ones.
      const [late] = await addStructures(db, 1, 'FAST');
      await labelMaterial(db, { materialId: late!.id, class: 'FAST' });

      startWorker();
      const done = await waitForModelStatus(db, queued.id, ['READY', 'FAILED']);
      assert.equal(done.status, 'READY', done.error ?? '');
      assert.deepEqual(done.labelCounts, { fast: 4, poor: 4 }, 'trained on the snapshot taken by the first attempt');
      assert.equal((await modelColumns(db, queued.id)).label_snapshot?.length, 8);
      assert.deepEqual(done.trainingCurve.map((p) => p.epoch).slice(0, 2), [1, 2], 'the retry starts its curve again');
      // The model commits READY inside the task; the job is marked DONE just after the task returns.
      const job = await waitFor('the job to be recorded DONE', async () => {
        const j = await jobOfModel(db, queued.id);
        return j.status === 'DONE' ? j : null;
      });
      assert.equal(job.attempts, 2);
      // Every structure material present at commit time, the late one included.
      assert.equal(await countModelEmbeddings(db, queued.id), set.embeddable.length + 1);
    });

    test('a worker that no longer holds the job (paused past its lease) writes no progress and no failure', async () => {
      const { db } = database();
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await resetDatabase(db);
      await seedTinySet(db, { fast: 2, poor: 2, unlabelled: 0 });
      const queued = await requestTraining(db, TINY_TRAINING);
      // The job now belongs to "new" (it took it over after "old"'s lease expired).
      const job = (await claimJob(db, 'new', [TRAIN_MODEL_TASK], 60_000))!;
      assert.ok(await beginTraining(db, queued.id));
      const progress = { phase: 'TRAINING' as const, epoch: 7, maxEpochs: 8, trainLoss: 1, validationLoss: 1, etaSeconds: 1 };
      const point = { epoch: 7, trainLoss: 1, validationLoss: 1 };
      assert.equal(await recordProgress(db, queued.id, progress, point, { jobId: job.id, workerId: 'old' }), false);
      assert.equal(await failTraining(db, queued.id, 'stale failure', { final: true, owner: { jobId: job.id, workerId: 'old' } }), null);
      let model = (await getModel(db, queued.id))!;
      assert.equal(model.status, 'TRAINING');
      assert.deepEqual(model.trainingCurve, []);
      assert.equal(model.error, null);
      // The holder's writes go through.
      assert.equal(await recordProgress(db, queued.id, { ...progress, epoch: 1 }, { ...point, epoch: 1 }, { jobId: job.id, workerId: 'new' }), true);
      model = (await getModel(db, queued.id))!;
      assert.deepEqual(model.trainingCurve.map((p) => p.epoch), [1]);
      assert.equal((await failTraining(db, queued.id, 'real failure', { final: true, owner: { jobId: job.id, workerId: 'new' } }))?.status, 'FAILED');
    });

    test('a NaN loss fails the job for good, naming the epoch; nothing is saved and the active model keeps serving', async () => {
      const { db } = database();
      await resetDatabase(db);
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      const set = await seedTinySet(db, { fast: 4, poor: 4, unlabelled: 2 });
      const queuedFirst = await requestTraining(db, TINY_TRAINING);
      startWorker();
      const serving = await waitForModelStatus(db, queuedFirst.id, ['READY', 'FAILED']);
      assert.equal(serving.status, 'READY', serving.error ?? '');
      assert.equal(serving.isActive, true);
      await waitForIdleQueue(db);
      await Promise.all(workers.splice(0).map((w) => w.stop()));

      // The API caps learningRate at 1, which does not diverge within a few epochs here. The worker
      // trains with the hyperparameters stored on the model row, so the row gets an absurd one
      // (1e30: every Adam step moves each weight by ~1e30, and the next forward pass overflows).
      const queued = await requestTraining(db, { ...TINY_TRAINING, name: 'diverging', maxEpochs: 5 });
      await sql`update model set hyperparameters = jsonb_set(hyperparameters, '{learningRate}', '1e30'::jsonb) where id = ${queued.id}`.execute(db);
      startWorker();
      const failed = await waitForModelStatus(db, queued.id, ['FAILED', 'READY']);
      assert.equal(failed.status, 'FAILED');
      // The default preset's composition warm-up comes first: the message names its phase and epoch.
      assert.match(failed.error ?? '', /^training diverged: .*(NaN|Infinity) at (composition warm-up )?epoch \d+\b/);
      assert.match(failed.error ?? '', /the model was not saved \(the active model keeps serving\)/);
      const job = await waitFor('the job to fail', async () => {
        const j = await jobOfModel(db, queued.id);
        return j.status === 'FAILED' ? j : null;
      });
      assert.equal(job.attempts, 1, 'a diverged training is not retried (it would diverge again)');
      assert.match(job.lastError ?? '', /training diverged/);
      assert.equal(await countModelEmbeddings(db, queued.id), 0, 'no embeddings of the failed model');
      assert.equal((await modelColumns(db, queued.id)).weights, null, 'no weights of the failed model');
      assert.ok(!(await indexExists(db, modelVectorIndexName(queued.id))));

      // The model that was active still is, and screening answers from it.
      assert.equal((await getActiveModel(db))?.id, serving.id);
      const page = await screen(db, { first: 10 });
      assert.equal(page.modelId, serving.id);
      assert.deepEqual(page.items.map((c) => c.materialId).sort(), [...set.unlabelled, set.formula].map((m) => m.id).sort());
      assert.ok(page.items.every((c) => Number.isFinite(c.meanDistanceToFast) && Number.isFinite(c.meanDistanceToPoor)));
      const byId = await similarMaterials(db, { materialId: set.fast[0]!.id, k: 3 }, LIMITS);
      assert.equal(byId.length, 3);
      const uploaded = await similarMaterials(db, { structure: { format: 'JSON', text: cubicStructureJson(3.33, ['Li', 'Li', 'S']) }, k: 2, label: 'FAST' }, LIMITS);
      assert.equal(uploaded.length, 2);
      assert.ok(uploaded.every((n) => set.fast.some((m) => m.id === n.materialId)));
    });

    // Last in this suite: its READY second model leaves a vector index that resetDatabase does not drop.
    test('a material added while a model trains is embedded and ranked under the active model before the training ends', async () => {
      const { db } = database();
      await resetDatabase(db);
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await seedTinySet(db, { fast: 3, poor: 3, unlabelled: 1 });
      // Training jobs wait after each epoch while the gate is closed: the second model stays TRAINING
      // until the new material is ranked, however fast the tiny fit.
      let gate: Promise<void> = Promise.resolve();
      let open = () => {};
      startWorker({
        train: {
          afterEpochRecorded: (_epoch, signal) =>
            Promise.race([gate, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]),
        },
      });
      try {
        const serving = await requestTraining(db, { ...TINY_TRAINING, name: 'serving' });
        assert.equal((await waitForModelStatus(db, serving.id, ['READY', 'FAILED'])).isActive, true);
        gate = new Promise<void>((resolve) => (open = resolve));
        const second = await requestTraining(db, { ...TINY_TRAINING, name: 'training meanwhile', maxEpochs: 4 });
        await waitFor('the second model to train', async () => ((await getModel(db, second.id))?.progress?.epoch ?? 0) >= 1);

        const [added] = await addStructures(db, 1, 'FAST');
        assert.equal(await queueEmbeddingOfNewMaterials(db), true, 'addMaterials queues an embedding job');
        const ranked = await waitFor('the new material to be ranked', async () => {
          const page = await screen(db, { first: 50 });
          return page.items.find((c) => c.materialId === added!.id) ?? null;
        });
        assert.equal((await screen(db, { first: 1 })).modelId, serving.id, 'ranked by the active model');
        assert.ok(Number.isFinite(ranked.score));
        assert.equal((await getModel(db, second.id))?.status, 'TRAINING', 'while the other model was still training');
        open();
        assert.equal((await waitForModelStatus(db, second.id, ['READY', 'FAILED'])).status, 'READY');
      } finally {
        open();
      }
    });
  });
});
