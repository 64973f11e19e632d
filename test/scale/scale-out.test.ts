/**
 * Scale-out with real processes on one PostgreSQL: two API processes (`ionsieve serve`, two ports)
 * and two trainer workers (`ionsieve trainer`).
 * - several training jobs queued through both APIs: each runs exactly once (job table: one attempt,
 *   DONE; the workers' logs claim disjoint sets of jobs; one READY commit per model), and both
 *   workers take part;
 * - both APIs give the same answers (materials page, screen page, models, similar materials);
 * - labels written through one API (and through both at once) are seen through the other at once,
 *   and the screening scores of the candidates change the same way on both, matching scores
 *   recomputed from the raw embeddings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createApiToken } from '../../src/services/tokens.js';
import { openDatabase, type OpenedDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresTestDatabase, type PostgresTestDatabase } from '../support/databases.js';
import { graphQLData, startApi, startTrainer, stopAllIonsieve, type IonsieveProcess } from '../support/processes.js';
import { assertSameRanking, recomputeRanking, type OracleRow } from '../screening/fixtures.js';
import { seedTinySet, sleep, TINY_TRAINING, waitFor, type TinySet } from '../trainer/support.js';

const SKIP = process.env.DATABASE_URL
  ? false
  : 'DATABASE_URL is not set: this test runs `ionsieve serve` and `ionsieve trainer` processes against a real PostgreSQL (CI sets it)';

const JOBS = 4;
/** Pool size of each child (IONSIEVE_DB_POOL_SIZE); each also holds one LISTEN connection. */
const POOL = 4;
/** The test's own connections (its pool; the connection sampler uses one of them). */
const TEST_POOL = 2;

const TRAIN = /* GraphQL */ `
  mutation Train($input: TrainModelInput!) { trainModel(input: $input) { id status } }`;
const MODELS = /* GraphQL */ `
  query { models { id name status isActive backend threshold labelCounts { fast poor } trainingCurve { epoch trainLoss validationLoss } metrics { protocol rocAuc } }
          activeModel { id } }`;
const MATERIALS = /* GraphQL */ `
  query { materials(first: 100) { totalCount edges { cursor node { id formula kind label { class } } } pageInfo { endCursor hasNextPage } } }`;
const SCREEN = /* GraphQL */ `
  query { screen(first: 100) { totalCount modelId threshold edges { rank score meanDistanceToFast meanDistanceToPoor predictedClass node { id formula } } } }`;
const SIMILAR = /* GraphQL */ `
  query Similar($id: ID!) { similarMaterials(input: { materialId: $id, k: 5 }) { distance material { id } } }`;
const LABEL = /* GraphQL */ `
  mutation Label($id: ID!, $class: LabelClass!) { labelMaterial(input: { materialId: $id, class: $class, source: "scale-out test" }) { id class } }`;
const MATERIAL = /* GraphQL */ `
  query Material($id: ID!) { material(id: $id) { id label { class source } } }`;

interface ScreenEdge {
  rank: number;
  score: number;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
  predictedClass: string;
  node: { id: string };
}
interface ScreenData {
  screen: { totalCount: number; modelId: string; threshold: number; edges: ScreenEdge[] };
}

const asOracle = (edges: readonly ScreenEdge[]): OracleRow[] =>
  edges.map((e) => ({ materialId: e.node.id, score: e.score, meanDistanceToFast: e.meanDistanceToFast, meanDistanceToPoor: e.meanDistanceToPoor }));

describe('scale-out: two API processes and two trainer workers on one PostgreSQL', { skip: SKIP }, () => {
  let created: PostgresTestDatabase;
  let opened: OpenedDatabase;
  let set: TinySet;
  let apis: { proc: IonsieveProcess; url: string }[] = [];
  let workers: { proc: IonsieveProcess; workerId: string }[] = [];
  // Connections to the test database, sampled throughout.
  let peakConnections = 0;
  let startupMs: number[] = [];
  let stopSampling = false;
  let sampling: Promise<void> | undefined;
  /** Writes need a token (README "Access control"): training needs admin, labels curator. */
  let admin: Record<string, string> = {};

  before(async () => {
    created = await createPostgresTestDatabase();
    opened = await openDatabase({ databaseUrl: created.url, poolSize: TEST_POOL });
    await migrateToLatest(opened.db);
    set = await seedTinySet(opened.db, { fast: 5, poor: 5, unlabelled: 8 });
    const env = { IONSIEVE_DB_POOL_SIZE: String(POOL) };
    admin = { authorization: `Bearer ${(await createApiToken(opened.db, { name: 'scale-out', role: 'admin' })).secret}` };
    const [api1, api2, w1, w2] = await Promise.all([
      startApi('api 1', created.url, [], { env }),
      startApi('api 2', created.url, [], { env }),
      startTrainer('worker 1', created.url, { leaseSeconds: 10, pollSeconds: 0.5, env }),
      startTrainer('worker 2', created.url, { leaseSeconds: 10, pollSeconds: 0.5, env }),
    ]);
    apis = [api1!, api2!];
    workers = [w1!, w2!];
    startupMs = [api1!, api2!, w1!, w2!].map((p) => p.startupMs);
    sampling = (async () => {
      while (!stopSampling) {
        const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database()`.execute(opened.db);
        peakConnections = Math.max(peakConnections, Number(rows[0]!.n));
        await sleep(100);
      }
    })();
  });

  after(async () => {
    stopSampling = true;
    await sampling;
    await stopAllIonsieve();
    await opened?.close();
    await created?.drop();
  });

  /** Until no job waits or runs and no screening change waits to be folded. */
  const settled = () =>
    waitFor('an idle job queue and folded screening events', async () => {
      const { rows } = await sql<{ jobs: string; events: string }>`
        select (select count(*) from job where status in ('QUEUED', 'RUNNING')) as jobs,
               (select count(*) from screening_event) as events`.execute(opened.db);
      return Number(rows[0]!.jobs) === 0 && Number(rows[0]!.events) === 0;
    }, 240_000);

  /** The same operation through both APIs; asserts equal answers and returns one. */
  async function sameOnBoth<T>(what: string, query: string, variables?: Record<string, unknown>): Promise<T> {
    const [one, two] = await Promise.all(apis.map((api) => graphQLData<T>(api.url, query, variables)));
    assert.deepEqual(two, one, `${what}: API 2 answers as API 1`);
    return one!;
  }

  test(`${JOBS} training jobs queued through both APIs: each runs exactly once, on both workers`, async (t) => {
    const started = Date.now();
    const queued = await Promise.all(
      Array.from({ length: JOBS }, (_, i) =>
        graphQLData<{ trainModel: { id: string; status: string } }>(apis[i % 2]!.url, TRAIN, {
          input: { ...TINY_TRAINING, name: `scale ${i + 1}`, seed: 100 + i, maxEpochs: 60, patience: 100 },
        }, admin),
      ),
    );
    const modelIds = queued.map((q) => q.trainModel.id);
    assert.ok(queued.every((q) => q.trainModel.status === 'QUEUED'));

    await waitFor('every model READY or FAILED', async () => {
      await sleep(200); // a few requests a second: well inside the per-client rate limit
      const { models } = await graphQLData<{ models: { id: string; status: string }[] }>(apis[1]!.url, MODELS);
      const mine = models.filter((m) => modelIds.includes(m.id));
      return mine.length === JOBS && mine.every((m) => m.status === 'READY' || m.status === 'FAILED');
    }, 240_000);
    await settled();
    t.diagnostic(`${JOBS} tiny models trained by 2 workers in ${Date.now() - started} ms (until the queue was idle)`);

    const { models } = await sameOnBoth<{ models: { id: string; status: string; error?: string }[] }>('models', MODELS);
    for (const m of models) assert.equal(m.status, 'READY', `model ${m.id}`);

    // The job table: every job (trainings and the embed job the first READY model queues) done in one attempt.
    const { rows: jobs } = await sql<{ id: string; kind: string; status: string; attempts: number; model_id: string | null }>`
      select id::text as id, kind, status, attempts, payload->>'modelId' as model_id from job order by id`.execute(opened.db);
    const trainJobs = jobs.filter((j) => j.kind === 'train_model');
    assert.deepEqual(trainJobs.map((j) => j.model_id).sort(), [...modelIds].sort(), 'one training job per model');
    for (const j of jobs) {
      assert.equal(j.status, 'DONE', `job ${j.id} (${j.kind})`);
      assert.equal(Number(j.attempts), 1, `job ${j.id} (${j.kind}) ran once`);
    }

    // The workers' logs: each job claimed by exactly one worker, once; one READY commit per model.
    const claims = workers.map((w) => w.proc.logs.filter((l) => l.msg === 'job started').map((l) => String(l.jobId)));
    const all = claims.flat();
    assert.equal(new Set(all).size, all.length, `no job claimed twice: ${JSON.stringify(claims)}`);
    assert.deepEqual([...all].sort(), jobs.map((j) => j.id).sort(), 'every job claimed by one of the workers');
    for (const [i, c] of claims.entries()) assert.ok(c.length >= 1, `worker ${i + 1} took part (claims: ${JSON.stringify(claims)})`);
    const commits = workers.flatMap((w) => w.proc.logs.filter((l) => l.msg === 'model READY').map((l) => String(l.modelId)));
    assert.deepEqual(commits.sort(), [...modelIds].sort(), 'one READY commit per model');
    t.diagnostic(`claims per worker: ${claims.map((c) => c.length).join(' and ')}`);
  });

  test('both APIs give the same answers: materials, models, screen page, similar materials', async () => {
    await settled();
    const materials = await sameOnBoth<{ materials: { totalCount: number } }>('materials page', MATERIALS);
    assert.equal(materials.materials.totalCount, set.structures.length + 1, 'the structures and the composition');
    const screen = await sameOnBoth<ScreenData>('screen page', SCREEN);
    // The unlabelled structures and the formula-only material (the default embeds formulas too).
    assert.equal(screen.screen.totalCount, set.unlabelled.length + 1);
    assertSameRanking(asOracle(screen.screen.edges), await recomputeRanking(opened.db, screen.screen.modelId), 'screen');
    const similar = await sameOnBoth<{ similarMaterials: unknown[] }>('similar materials', SIMILAR, { id: set.unlabelled[0]!.id });
    assert.equal(similar.similarMaterials.length, 5);
  });

  test('a label written through API 1 is seen through API 2 at once; both re-rank the same way', async () => {
    await settled();
    const before = await sameOnBoth<ScreenData>('screen before', SCREEN);
    const candidate = before.screen.edges.at(-1)!.node.id; // the least conductor-like: labelled FAST, it moves every score

    await graphQLData(apis[0]!.url, LABEL, { id: candidate, class: 'FAST' }, admin);
    // Read through the other process straight after the mutation answered (no fold has to run first).
    const seen = await graphQLData<{ material: { label: { class: string; source: string } | null } }>(apis[1]!.url, MATERIAL, { id: candidate });
    assert.deepEqual(seen.material.label, { class: 'FAST', source: 'scale-out test' });
    const afterOnTwo = await graphQLData<ScreenData>(apis[1]!.url, SCREEN);
    assert.equal(afterOnTwo.screen.totalCount, before.screen.totalCount - 1, 'the labelled material left the ranking');
    assert.ok(!afterOnTwo.screen.edges.some((e) => e.node.id === candidate));
    const oracle = await recomputeRanking(opened.db, before.screen.modelId);
    assertSameRanking(asOracle(afterOnTwo.screen.edges), oracle, 'API 2 right after the label');
    const scoreBefore = new Map(before.screen.edges.map((e) => [e.node.id, e.score]));
    const changed = afterOnTwo.screen.edges.filter((e) => e.score !== scoreBefore.get(e.node.id));
    assert.equal(changed.length, afterOnTwo.screen.edges.length, 'a new FAST reference changes every candidate’s score');

    // Labels through both APIs at once (two processes writing and folding), then the same answers again.
    const [a, b] = [afterOnTwo.screen.edges[0]!.node.id, afterOnTwo.screen.edges[1]!.node.id];
    await Promise.all([
      graphQLData(apis[0]!.url, LABEL, { id: a, class: 'POOR' }, admin),
      graphQLData(apis[1]!.url, LABEL, { id: b, class: 'FAST' }, admin),
    ]);
    const [onOne, onTwo] = await Promise.all(apis.map((api) => graphQLData<ScreenData>(api.url, SCREEN)));
    const expected = await recomputeRanking(opened.db, before.screen.modelId);
    assertSameRanking(asOracle(onOne!.screen.edges), expected, 'API 1 after concurrent labels');
    assertSameRanking(asOracle(onTwo!.screen.edges), expected, 'API 2 after concurrent labels');
    assert.equal(onTwo!.screen.totalCount, before.screen.totalCount - 3);

    await settled();
    const folded = await sameOnBoth<ScreenData>('screen after the folds', SCREEN);
    assertSameRanking(asOracle(folded.screen.edges), expected, 'after the folds');
    await sameOnBoth('materials page after the labels', MATERIALS);
  });

  test('connections stay within the configured pools; nothing crashed: every process runs and logged no error', (t) => {
    const bound = 4 * (POOL + 1) + TEST_POOL;
    t.diagnostic(`spawn → listening: APIs ${startupMs.slice(0, 2).join(' and ')} ms; spawn → worker started: ${startupMs.slice(2).join(' and ')} ms (all four started at once)`);
    t.diagnostic(`resident memory now: ${[...apis, ...workers].map((x) => `${x.proc.name} ${x.proc.rssMiB() ?? '?'} MiB`).join(', ')}`);
    t.diagnostic(`peak connections to the database: ${peakConnections} (bound ${bound}: 4 processes × (pool ${POOL} + LISTEN) + the test's ${TEST_POOL})`);
    assert.ok(peakConnections > 4, 'the sampler saw the processes connected');
    assert.ok(peakConnections <= bound, `${peakConnections} connections > ${bound}`);
    for (const p of [...apis, ...workers].map((x) => x.proc)) {
      assert.equal(p.exit, null, `${p.name} exited: ${p.tail()}`);
      const errors = p.logs.filter((l) => l.level >= 50);
      assert.deepEqual(errors, [], `${p.name} logged errors`);
    }
  });
});
