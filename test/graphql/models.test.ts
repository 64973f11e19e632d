/**
 * The model registry over GraphQL: trainModel (input checks), models / model / activeModel,
 * activateModel and cancelTraining errors, and Subscription.trainingProgress over a real
 * graphql-ws client against startServer while a worker trains the model.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import { sql } from 'kysely';
import WebSocket from 'ws';
import type { RunningWorker } from '../../src/jobs/worker.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startTrainerWorker } from '../../trainer/worker.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { cubicStructureJson } from '../support/structures.js';
import { seedTinySet, silentLogger, TINY_TRAINING } from '../trainer/support.js';
import { dataOf, execute, onlyError, testConfig, testServer, tokenPrincipal } from './harness.js';

const MODEL_FIELDS = /* GraphQL */ `
  id name status isActive hyperparameters backend embeddingDim distance threshold createdBy error
  progress { phase epoch maxEpochs trainLoss validationLoss etaSeconds }
  trainingCurve { epoch trainLoss validationLoss }
  metrics { protocol heldOut label folds seeds accuracy sensitivity specificity rocAuc prAuc threshold n }
  heldOutMetrics { protocol folds seeds n rocAuc label }
  noHeldOutReason
  decision { threshold protocol heldOut label precision recall falsePositiveRate balancedAccuracy n operatingPoints { threshold precision recall falsePositiveRate predictedFastRate } }
  outOfFoldScores { materialId label score fold }
  labelCounts { fast poor }
  createdAt startedAt finishedAt
`;

const TRAIN = /* GraphQL */ `
  mutation Train($input: TrainModelInput!) { trainModel(input: $input) { ${MODEL_FIELDS} } }
`;

const { name: _name, ...tinyHyperparameters } = TINY_TRAINING;

describeDatabases('GraphQL models', (database) => {
  test('trainModel returns a QUEUED model; bad hyperparameters are BAD_USER_INPUT naming the field', async () => {
    const { db } = database();
    await resetDatabase(db);
    const server = await testServer();
    const queued = dataOf(
      await execute(server, TRAIN, { input: { name: 'via graphql', ...tinyHyperparameters, distance: 'COSINE', evaluation: 'NONE' } }, { db, principal: tokenPrincipal('alice') }),
    ).trainModel;
    assert.equal(queued.status, 'QUEUED');
    assert.equal(queued.isActive, false);
    assert.equal(queued.createdBy, 'alice');
    assert.equal(queued.distance, 'COSINE');
    assert.equal(queued.hyperparameters.k, 4);
    assert.equal(queued.hyperparameters.featureLength, 8);
    assert.equal(queued.progress.phase, 'QUEUED');
    assert.deepEqual(queued.trainingCurve, []);
    assert.equal(queued.hyperparameters.compositionDescriptors, true, 'the default preset reads the composition descriptors');
    const without = dataOf(
      await execute(server, TRAIN, { input: { name: 'no descriptors', ...tinyHyperparameters, compositionDescriptors: false } }, { db, principal: tokenPrincipal('alice') }),
    ).trainModel;
    assert.equal(without.hyperparameters.compositionDescriptors, false);
    const paper = dataOf(await execute(server, TRAIN, { input: { name: 'paper', preset: 'PAPER' } }, { db, principal: tokenPrincipal('alice') })).trainModel;
    assert.equal(paper.hyperparameters.compositionDescriptors, false, 'the paper preset does not');
    assert.equal(paper.hyperparameters.objective, 'CONTRASTIVE');

    for (const [field, value] of [
      ['k', 0],
      ['layers', 7],
      ['featureLength', 4],
      ['embeddingDim', 1],
      ['margin', 0],
      ['maxEpochs', 501],
      ['patience', 0],
    ] as const) {
      const error = onlyError(await execute(server, TRAIN, { input: { name: 'bad', [field]: value } }, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', field);
      assert.equal(error.extensions?.field, field);
      assert.match(error.message, new RegExp(field));
    }
    assert.equal(onlyError(await execute(server, TRAIN, { input: { name: '  ' } }, { db })).extensions?.field, 'name');

    const listed = dataOf(await execute(server, `{ models { id status } activeModel { id } }`, undefined, { db }));
    assert.deepEqual(
      listed.models.map((m: { id: string }) => m.id).sort(),
      [queued.id, without.id, paper.id].sort(),
      'rejected inputs created nothing',
    );
    assert.equal(listed.activeModel, null);

    const activate = onlyError(await execute(server, `mutation($id: ID!) { activateModel(id: $id) { id } }`, { id: queued.id }, { db }));
    assert.equal(activate.extensions?.code, 'MODEL_NOT_READY');
    const cancel = dataOf(await execute(server, `mutation($id: ID!) { cancelTraining(id: $id) { id status } }`, { id: queued.id }, { db }));
    assert.equal(cancel.cancelTraining.status, 'CANCELLED');
    const again = onlyError(await execute(server, `mutation($id: ID!) { cancelTraining(id: $id) { id } }`, { id: queued.id }, { db }));
    assert.equal(again.extensions?.code, 'INVALID_JOB_STATE');
    const missing = dataOf(await execute(server, `query($id: ID!) { model(id: $id) { id } }`, { id: '424242' }, { db }));
    assert.equal(missing.model, null);
  });

  describe_subscription();

  function describe_subscription() {
    let server: RunningServer;
    let worker: RunningWorker | undefined;
    before(async () => {
      server = await startServer({
        db: database().db,
        config: { ...testConfig, host: '127.0.0.1', port: 0 },
        logger: silentLogger,
        listen: database().listen,
      });
    });
    after(async () => {
      await server?.close();
    });

    test('trainingProgress delivers the state, each epoch and the final READY over graphql-ws, then completes', async () => {
      const { db, listen } = database();
      await resetDatabase(db);
      await seedTinySet(db, { fast: 3, poor: 3, unlabelled: 1 });
      const gql = await testServer();
      const queued = dataOf(await execute(gql, TRAIN, { input: { name: 'watched', ...tinyHyperparameters, maxEpochs: 3 } }, { db })).trainModel;

      const client = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
      const events: any[] = [];
      try {
        const stream = client.iterate({
          query: `subscription($id: ID!) { trainingProgress(modelId: $id) { modelId status progress { phase epoch maxEpochs trainLoss } model { id isActive trainingCurve { epoch } } } }`,
          variables: { id: queued.id },
        });
        // The first event is the current state; start the worker only once we are subscribed.
        const first = await stream.next();
        assert.equal(first.done, false);
        events.push(first.value);
        worker = startTrainerWorker({ db, logger: silentLogger, listen, pollMs: 100 });
        for await (const result of stream) events.push(result);
      } finally {
        await client.dispose();
        await worker?.stop();
      }

      for (const e of events) assert.equal(e.errors, undefined, JSON.stringify(e.errors));
      const payloads = events.map((e) => e.data.trainingProgress);
      assert.equal(payloads[0].status, 'QUEUED');
      assert.ok(payloads.every((p) => p.modelId === queued.id));
      const epochs = payloads.filter((p) => p.status === 'TRAINING' && p.progress.phase === 'TRAINING' && p.progress.epoch > 0);
      assert.ok(epochs.length >= 1, `at least one epoch event, got ${JSON.stringify(payloads)}`);
      assert.ok(epochs.every((p) => p.progress.maxEpochs === 3 && Number.isFinite(p.progress.trainLoss)));
      const last = payloads.at(-1);
      assert.equal(last.status, 'READY', 'the stream ends with the final state');
      assert.equal(last.model.isActive, true);
      assert.deepEqual(last.model.trainingCurve.map((p: { epoch: number }) => p.epoch), [1, 2, 3]);

      const read = dataOf(await execute(gql, `{ activeModel { ${MODEL_FIELDS} } }`, undefined, { db })).activeModel;
      assert.equal(read.id, queued.id);
      assert.deepEqual(read.metrics.map((m: { protocol: string; heldOut: boolean }) => [m.protocol, m.heldOut]), [['TRAIN', false]]);
      assert.match(read.metrics[0].label, /^fit to the training data \(not held out\), n = 6$/);
      assert.equal(read.heldOutMetrics, null, 'trained with evaluation NONE: no held-out estimate, and it says so');
      assert.match(read.noHeldOutReason, /evaluation NONE/);
      assert.deepEqual(read.labelCounts, { fast: 3, poor: 3 });
      assert.equal(read.progress.phase, 'DONE');

      // With no job waiting (the worker is stopped; settle what it left), a structure added through
      // addMaterials queues an embedding job for the active model.
      await sql`update job set status = 'DONE' where status in ('QUEUED', 'RUNNING')`.execute(db);
      dataOf(
        await execute(gql, `mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id } }`, {
          inputs: [{ structure: { format: 'JSON', text: cubicStructureJson(7.5, ['Li', 'Br']) } }],
        }, { db }),
      );
      const { rows: queuedJobs } = await sql<{ payload: { modelId: string } }>`select payload from job where kind = 'embed_materials' and status = 'QUEUED'`.execute(db);
      assert.deepEqual(queuedJobs.map((j) => j.payload.modelId), [queued.id]);
    });

    test('trainModel evaluates by grouped K-fold by default: a progress event for every fold, the held-out estimate first, the threshold and its precision/recall from out-of-fold scores', async () => {
      const { db, listen } = database();
      await resetDatabase(db);
      // Ten distinct compositions (grouped folds keep a composition on one side), five of each class.
      const fastSets = [['Li', 'Li', 'S'], ['Li', 'Li', 'Se'], ['Li', 'Li', 'Te'], ['Li', 'Na', 'S'], ['Li', 'K', 'S']];
      const poorSets = [['Li', 'O', 'La'], ['Li', 'O', 'Y'], ['Li', 'O', 'Sc'], ['Li', 'F', 'La'], ['Li', 'F', 'Y']];
      const gql = await testServer();
      const admin = { db, principal: tokenPrincipal('admin') };
      const add = async (sets: string[][], cls: string) => {
        for (const [i, elements] of sets.entries()) {
          const [m] = dataOf(await execute(gql, `mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id } }`, {
            inputs: [{ structure: { format: 'JSON', text: cubicStructureJson(3.1 + 0.1 * i, elements) } }],
          }, admin)).addMaterials;
          dataOf(await execute(gql, `mutation($input: LabelMaterialInput!) { labelMaterial(input: $input) { id } }`, { input: { materialId: m.id, class: cls } }, admin));
        }
      };
      await add(fastSets, 'FAST');
      await add(poorSets, 'POOR');
      const { evaluation: _none, ...withoutEvaluation } = tinyHyperparameters;
      const queued = dataOf(await execute(gql, TRAIN, { input: { name: 'held out', ...withoutEvaluation } }, admin)).trainModel;

      const client = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
      const payloads: any[] = [];
      try {
        const stream = client.iterate({
          query: `subscription($id: ID!) { trainingProgress(modelId: $id) { status progress { phase epoch maxEpochs fold folds etaSeconds } } }`,
          variables: { id: queued.id },
        });
        const first = await stream.next();
        payloads.push(first.value.data.trainingProgress);
        worker = startTrainerWorker({ db, logger: silentLogger, listen, pollMs: 100 });
        for await (const result of stream) {
          assert.equal(result.errors, undefined, JSON.stringify(result.errors));
          payloads.push(result.data!.trainingProgress);
        }
      } finally {
        await client.dispose();
        await worker?.stop();
      }
      const evaluating = payloads.filter((p) => p.progress?.phase === 'EVALUATING');
      assert.ok(evaluating.every((p) => p.progress.folds === 5), JSON.stringify(evaluating));
      for (let fold = 1; fold <= 5; fold++) {
        assert.ok(evaluating.some((p) => p.progress.fold === fold && p.progress.epoch > 0), `epoch events of fold ${fold}: ${JSON.stringify(payloads)}`);
      }
      assert.ok(evaluating.filter((p) => p.progress.epoch > 0).every((p) => Number.isInteger(p.progress.etaSeconds)), 'fold epochs carry an ETA');
      assert.equal(payloads.at(-1).status, 'READY');

      const read = dataOf(await execute(gql, `{ model(id: "${queued.id}") { ${MODEL_FIELDS} } }`, undefined, { db })).model;
      assert.deepEqual(read.metrics.map((m: { protocol: string; heldOut: boolean }) => [m.protocol, m.heldOut]), [['GROUP_KFOLD', true], ['TRAIN', false]], 'held out first');
      assert.deepEqual(read.heldOutMetrics, { protocol: 'GROUP_KFOLD', folds: 5, seeds: [7], n: 10, rocAuc: read.metrics[0].rocAuc, label: 'held out: grouped 5-fold × 1 seed, n = 10' });
      assert.equal(read.noHeldOutReason, null);
      assert.equal(read.decision.protocol, 'GROUP_KFOLD');
      assert.equal(read.decision.heldOut, true);
      assert.equal(read.decision.threshold, read.threshold, 'the model decides at the threshold chosen on out-of-fold scores');
      assert.equal(read.outOfFoldScores.length, 10, 'every training material scored by a fold model that did not train on it');
      // Precision, recall and false-positive rate are those of the threshold on the out-of-fold scores.
      const oof = read.outOfFoldScores as { label: string; score: number }[];
      const predictedFast = oof.filter((o) => o.score > read.threshold);
      const tp = predictedFast.filter((o) => o.label === 'FAST').length;
      assert.equal(read.decision.recall, tp / 5);
      assert.equal(read.decision.falsePositiveRate, (predictedFast.length - tp) / 5);
      assert.equal(read.decision.precision, predictedFast.length ? tp / predictedFast.length : null);
      assert.ok(read.decision.operatingPoints.length >= 3);
      const thresholds = read.decision.operatingPoints.map((p: { threshold: number }) => p.threshold);
      assert.deepEqual(thresholds, [...thresholds].sort((a: number, b: number) => a - b));
    });

    test('trainingProgress of an unknown model is a NOT_FOUND error', async () => {
      const client = createClient({ url: server.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
      try {
        const results: any[] = [];
        for await (const r of client.iterate({ query: `subscription { trainingProgress(modelId: "987654") { status } }` })) results.push(r);
        assert.equal(results.length, 1);
        assert.equal(results[0].errors?.[0]?.extensions?.code, 'NOT_FOUND', JSON.stringify(results));
        assert.equal(results[0].errors?.[0]?.message, 'model 987654 not found');
      } finally {
        await client.dispose();
      }
    });
  }
});
