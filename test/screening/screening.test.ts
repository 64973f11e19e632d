import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { BadInputError, ModelNotReadyError, NotFoundError } from '../../src/errors.js';
import { leaveSelfOutScores, scoreAgainstNearest } from '../../src/scoring/index.js';
import { labelMaterial } from '../../src/services/screening.js';
import {
  foldScreening,
  labelMaterialWithScreening,
  netChanges,
  rescoreModel,
  retractLabelWithScreening,
  screen,
  screeningFoldsIdle,
  screeningOfMaterials,
  similarMaterials,
  syncScreeningEmbeddings,
} from '../../src/services/screening.js';
import type { Db } from '../../src/store/database.js';
import { dropSnapshotTable, listSnapshotTableIds, referenceSums } from '../../src/store/screening/index.js';
import { createModelVectorIndex, dropModelVectorIndex, parseVectorLiteral, toVectorLiteral } from '../../src/store/vector.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import {
  assertSameRanking,
  insertEmbeddings,
  insertMaterials,
  insertModel,
  randomVectors,
  readWholeRanking,
  recomputeRanking,
  setLabelsDirectly,
} from './fixtures.js';

const DIM = 4;
const LIMITS = { maxSites: 200, maxTextBytes: 100_000 };

test('netChanges keeps the first status and the last, and drops round trips', () => {
  const vec = '[1,2]';
  const changes = netChanges([
    { id: '1', materialId: '5', fromClass: null, toClass: 'FAST', vec },
    { id: '2', materialId: '6', fromClass: 'POOR', toClass: null, vec },
    { id: '3', materialId: '5', fromClass: 'FAST', toClass: 'POOR', vec },
    { id: '4', materialId: '6', fromClass: null, toClass: 'POOR', vec },
  ]);
  assert.deepEqual(changes, [{ materialId: '5', fromClass: null, toClass: 'POOR', vec }]);
});

interface Dataset {
  modelId: string;
  materialIds: string[];
  /** Materials without an embedding (left out). */
  bare: string[];
}

/** 40 embedded materials (5 FAST, 5 POOR labelled directly) and 3 without an embedding. */
async function seedDataset(db: Db, distance: 'EUCLIDEAN' | 'COSINE' = 'EUCLIDEAN', distanceScale: number | null = null): Promise<Dataset> {
  await resetDatabase(db);
  const modelId = await insertModel(db, { dim: DIM, distance, distanceScale, active: true });
  const materialIds = await insertMaterials(db, 40);
  const bare = await insertMaterials(db, 3);
  await insertEmbeddings(db, modelId, materialIds, randomVectors(materialIds.length, DIM, 7));
  await setLabelsDirectly(db, new Map(materialIds.slice(0, 10).map((id, i) => [id, i % 2 === 0 ? 'FAST' : 'POOR'] as const)));
  return { modelId, materialIds, bare };
}

describeDatabases('screening', (database) => {
  let data: Dataset;

  beforeEach(async () => {
    await screeningFoldsIdle(database().db);
    data = await seedDataset(database().db);
  });

  test('a full re-score matches R recomputed from the raw embeddings; pages are ordered and disjoint', async () => {
    const { db } = database();
    assert.equal(await rescoreModel(db, data.modelId), true);
    const expected = await recomputeRanking(db, data.modelId);
    assert.equal(expected.length, 30);
    assertSameRanking(await readWholeRanking(db, {}, 7), expected, 'snapshot');
    const first = await screen(db, { first: 5 });
    assert.equal(await first.totalCount(), 30);
    assert.equal(await first.leftOut(), 3, 'the three materials without an embedding');
    // A filter and minScore narrow the ranking without changing the scores.
    const withS = await readWholeRanking(db, { filter: { elementsHasAll: ['S'] }, minScore: 0.9 }, 4);
    const expectedS = expected.filter((r) => r.score >= 0.9 && Number(r.materialId) % 3 === 1);
    assertSameRanking(withS, expectedS, 'filter + minScore');
    const filtered = await screen(db, { first: 2, filter: { elementsHasAll: ['S'] }, minScore: 0.9 });
    assert.equal(await filtered.totalCount(), expectedS.length);
    assert.equal(await filtered.leftOut(), 1, 'of the three without an embedding, one contains S');
  });

  test('label add, relabel, retraction and a new material: pending and folded rankings equal a full recompute', async () => {
    const { db } = database();
    await rescoreModel(db, data.modelId);
    const check = async (context: string) => {
      const expected = await recomputeRanking(db, data.modelId);
      assertSameRanking(await readWholeRanking(db, {}, 6), expected, context);
      const page = await screen(db, { first: 1 });
      assert.equal(await page.totalCount(), expected.length, `${context}: totalCount`);
    };
    // A candidate becomes a FAST reference: it leaves the ranking, every other score changes.
    const candidate = data.materialIds[20]!;
    const added = await labelMaterialWithScreening(db, { materialId: candidate, class: 'FAST' }, 'test', { fold: 'none' });
    await check('label added (head)');
    assert.ok(!(await readWholeRanking(db, {}, 50)).some((r) => r.materialId === candidate));

    // A head of 4 rows: later pages come from the exact pass over the snapshot.
    await labelMaterialWithScreening(db, { materialId: candidate, class: 'POOR' }, 'test', { fold: 'none', headSize: 4 });
    await check('relabel FAST → POOR (small head + exact pass)');

    // Retracting the only label of an initial reference brings it back as a candidate.
    const reference = data.materialIds[2]!;
    const [initialLabel] = (await db.selectFrom('label').select('id').where('material_id', '=', reference).execute()).map((r) => String(r.id));
    await retractLabelWithScreening(db, initialLabel!, 'test', 'wrong', { fold: 'none' });
    await check('retraction');
    assert.ok((await readWholeRanking(db, {}, 50)).some((r) => r.materialId === reference));

    // A new material gets its score when its embedding is written.
    const [fresh] = await insertMaterials(db, 1);
    await insertEmbeddings(db, data.modelId, [fresh!], randomVectors(1, DIM, 99));
    assert.equal(await syncScreeningEmbeddings(db, data.modelId, [fresh!]), 1);
    await check('new material (pending)');

    const pending = await db.selectFrom('screening_event' as never).select(sql`count(*)`.as('n')).executeTakeFirstOrThrow();
    assert.ok(Number((pending as { n: unknown }).n) > 0);
    assert.equal(await foldScreening(db, data.modelId), 3);
    await check('folded');
    const stateAfterFold = await readWholeRanking(db, {}, 50);

    // The incremental state equals a full re-score of the same labels (same SQL, other order of sums).
    await rescoreModel(db, data.modelId);
    const rescored = await readWholeRanking(db, {}, 50);
    assertSameRanking(stateAfterFold, rescored, 'incremental vs full re-score');
    stateAfterFold.forEach((row, i) => assert.ok(Math.abs(row.score - rescored[i]!.score) < 1e-9));
    assert.ok(added.id);
  });

  test('the snapshot collector never drops a snapshot a model points at (its live list may be stale: another process folded since)', async () => {
    const { db } = database();
    await rescoreModel(db, data.modelId);
    for (const [i, id] of data.materialIds.slice(20, 22).entries()) {
      await labelMaterialWithScreening(db, { materialId: id, class: i === 0 ? 'FAST' : 'POOR' }, 'test', { fold: 'none' });
      await foldScreening(db, data.modelId);
    }
    const { rows } = await sql<{ snapshot_id: string; previous_snapshot_id: string }>`
      select snapshot_id::text, previous_snapshot_id::text from screening_state where model_id = ${data.modelId}`.execute(db);
    const { snapshot_id: current, previous_snapshot_id: previous } = rows[0]!;
    // As a collector that read the live set before these folds committed would try:
    assert.equal(await dropSnapshotTable(db, current, 1000), false, 'the current snapshot is kept');
    assert.equal(await dropSnapshotTable(db, previous, 1000), false, 'the previous snapshot is kept');
    const tables = await listSnapshotTableIds(db);
    assert.ok(tables.includes(current) && tables.includes(previous));
    assertSameRanking(await readWholeRanking(db, {}, 50), await recomputeRanking(db, data.modelId), 'after the attempted drops');
    assert.equal(await dropSnapshotTable(db, '999999', 1000), false, 'a table that does not exist');
  });

  test('a label written without the hook is caught up by the next hooked label write', async () => {
    const { db } = database();
    await rescoreModel(db, data.modelId);
    await labelMaterial(db, { materialId: data.materialIds[30]!, class: 'FAST' }); // no screening hook
    await labelMaterialWithScreening(db, { materialId: data.materialIds[31]!, class: 'POOR' }, 'test', { fold: 'inline' });
    assertSameRanking(await readWholeRanking(db, {}, 50), await recomputeRanking(db, data.modelId), 'after catch-up');
  });

  test('NEAREST(k) ranking and Material.screening agree with scoreAgainstNearest and leave-self-out scores', async () => {
    const { db } = database();
    await rescoreModel(db, data.modelId);
    for (const k of [1, 3]) {
      const expected = await recomputeRanking(db, data.modelId, { mode: 'NEAREST', k });
      assertSameRanking(await readWholeRanking(db, { reference: { mode: 'NEAREST', k } }, 8), expected, `NEAREST(${k})`);
    }
    // The material filter narrows a NEAREST ranking the same way (ids ≡ 1 mod 3 contain S).
    const nearestS = (await recomputeRanking(db, data.modelId, { mode: 'NEAREST', k: 3 })).filter((r) => Number(r.materialId) % 3 === 1);
    assertSameRanking(await readWholeRanking(db, { reference: { mode: 'NEAREST', k: 3 }, filter: { elementsHasAll: ['S'] } }, 8), nearestS, 'NEAREST(3), S only');
    // Material.screening: a candidate's score equals its ranking score; a reference's is leave-self-out.
    const ranking = await recomputeRanking(db, data.modelId);
    const labelled = data.materialIds.slice(0, 10);
    const results = await screeningOfMaterials(db, {}, [ranking[0]!.materialId, ...labelled, data.bare[0]!]);
    assert.ok(Math.abs(results[0]!.score - ranking[0]!.score) <= 1e-5);
    assert.equal(results.at(-1), null, 'no embedding, no score');
    const { rows } = await sql<{ vec: string }>`
      select vec::text as vec from embedding where model_id = ${data.modelId}::bigint and material_id = any(${labelled}::bigint[]) order by material_id`.execute(db);
    const looScores = leaveSelfOutScores(rows.map((r) => parseVectorLiteral(r.vec)), labelled.map((_, i) => (i % 2 === 0 ? 1 : 0)));
    looScores.forEach((s, i) => assert.ok(Math.abs(results[i + 1]!.score - s.score) <= 1e-5, `leave-self-out ${labelled[i]}`));

    // NEAREST per material leaves the material itself out.
    const nearest = await screeningOfMaterials(db, { reference: { mode: 'NEAREST', k: 2 } }, [labelled[0]!]);
    const fast = rows.filter((_, i) => i % 2 === 0 && i !== 0).map((r) => parseVectorLiteral(r.vec));
    const poor = rows.filter((_, i) => i % 2 === 1).map((r) => parseVectorLiteral(r.vec));
    const want = scoreAgainstNearest(parseVectorLiteral(rows[0]!.vec), fast, poor, 2);
    assert.ok(Math.abs(nearest[0]!.score - want.score) <= 1e-5);
  });

  test('label-filtered neighbours: exactly k when k exist (FAST exact; UNLABELLED via HNSW iterative scan)', async () => {
    const { db } = database();
    await resetDatabase(db);
    const modelId = await insertModel(db, { dim: 8, active: true });
    const ids = await insertMaterials(db, 300);
    const vectors = randomVectors(ids.length, 8, 3);
    await insertEmbeddings(db, modelId, ids, vectors);
    // 285 of 300 labelled: the 15 unlabelled ones are 5 % of the index.
    await setLabelsDirectly(db, new Map(ids.slice(0, 285).map((id, i) => [id, i % 3 === 0 ? 'FAST' : 'POOR'] as const)));
    await createModelVectorIndex(db, modelId, 8, 'EUCLIDEAN');
    // Ids restart after the next reset: a dim-8 index on model 1 would reject dim-4 rows.
    after(() => dropModelVectorIndex(db, modelId));
    await rescoreModel(db, modelId);
    const query = ids[290]!;

    const fast = await similarMaterials(db, { materialId: query, k: 95, label: 'FAST' }, LIMITS);
    assert.equal(fast.length, 95, 'all 95 FAST references');
    assert.equal((await similarMaterials(db, { materialId: query, k: 100, label: 'FAST' }, LIMITS)).length, 95, 'no more than exist');
    const exactFast = exactNeighbours(vectors, ids, query, (i) => i < 285 && i % 3 === 0, 10);
    assert.deepEqual((await similarMaterials(db, { materialId: query, k: 10, label: 'FAST' }, LIMITS)).map((n) => n.materialId), exactFast);

    // At 300 rows the planner prefers joining the 15 unlabelled rows first; without a sort to
    // fall back on it walks the HNSW index, as it does at scale.
    await sql`analyze`.execute(db);
    const unlabelled = await db.transaction().execute(async (tx) => {
      await sql`set local enable_sort = off`.execute(tx);
      // exactBelow 0: the HNSW path, whatever the store's size.
      return similarMaterials(tx, { materialId: query, k: 10, label: 'UNLABELLED' }, LIMITS, { exactBelow: 0 });
    });
    assert.equal(unlabelled.length, 10);
    assert.deepEqual(unlabelled.map((n) => n.materialId), exactNeighbours(vectors, ids, query, (i) => i >= 285, 10));
    assert.deepEqual(unlabelled.map((n) => n.rank), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Without iterative scans, the same filtered HNSW query comes back short: the test above can fail.
    const short = await db.transaction().execute(async (tx) => {
      await sql`set local hnsw.ef_search = 40`.execute(tx);
      await sql`set local enable_sort = off`.execute(tx);
      const { rows } = await sql`
        select e.material_id from embedding e join material m on m.id = e.material_id and m.current_label_class is null
        where e.model_id = ${modelId}::bigint and e.material_id <> ${query}::bigint
        order by e.vec::vector(8) <-> ${toVectorLiteral(vectors[290]!)}::vector(8) limit 10`.execute(tx);
      return rows.length;
    });
    assert.ok(short < 10, `without iterative scan only ${short} rows`);

    // 300 embeddings: the exact scan (the default below EXACT_NEIGHBOURS_MAX_ROWS) and the index agree.
    const unfiltered = await similarMaterials(db, { materialId: query, k: 5 }, LIMITS);
    assert.deepEqual(unfiltered.map((n) => n.materialId), exactNeighbours(vectors, ids, query, () => true, 5));
    const viaIndex = await similarMaterials(db, { materialId: query, k: 5 }, LIMITS, { exactBelow: 0 });
    assert.deepEqual(viaIndex.map((n) => n.materialId), unfiltered.map((n) => n.materialId));
    const unlabelledExact = await similarMaterials(db, { materialId: query, k: 10, label: 'UNLABELLED' }, LIMITS);
    assert.deepEqual(unlabelledExact.map((n) => n.materialId), exactNeighbours(vectors, ids, query, (i) => i >= 285, 10));
  });

  test('bad input: clear errors, nothing written', async () => {
    const { db } = database();
    await rescoreModel(db, data.modelId);
    const counts = async () => {
      const { rows } = await sql<{ labels: string; events: string; heads: string }>`
        select (select count(*) from label) as labels, (select count(*) from screening_event) as events,
          (select count(*) from screening_head_meta) as heads`.execute(db);
      return rows[0];
    };
    const before = await counts();
    const notReady = await insertModel(db, { dim: DIM, status: 'TRAINING' });
    await assert.rejects(screen(db, { first: 5, modelId: '999999' }), NotFoundError);
    await assert.rejects(screen(db, { first: 5, modelId: 'abc' }), BadInputError);
    await assert.rejects(screen(db, { first: 5, modelId: notReady }), ModelNotReadyError);
    await assert.rejects(screen(db, { first: 5, reference: { mode: 'NEAREST', k: 0 } }), /reference.k must be an integer in 1..100/);
    await assert.rejects(screen(db, { first: 5, reference: { mode: 'NEAREST' } }), /needs k/);
    await assert.rejects(screen(db, { first: 5, after: 'bm9wZQ==' }), /invalid cursor/);
    await assert.rejects(screen(db, { first: 5, filter: { label: 'FAST' } }), /unlabelled materials only/);
    await assert.rejects(screen(db, { first: 5, filter: { elementsHasAll: ['li'] } }), /filter\.elementsHasAll: "li" is not an element symbol/);
    await assert.rejects(screen(db, { first: 5, filter: { nelementsMin: -1 } }), /filter\.nelementsMin must be a non-negative integer/);
    await assert.rejects(similarMaterials(db, { materialId: data.materialIds[15]!, k: 101 }, LIMITS), /k must be an integer in 1..100/);
    await assert.rejects(similarMaterials(db, { materialId: data.bare[0]!, k: 3 }, LIMITS), NotFoundError);
    await assert.rejects(similarMaterials(db, { materialId: '999999', k: 3 }, LIMITS), /material 999999 not found/);
    await assert.rejects(similarMaterials(db, { k: 3 }, LIMITS), /exactly one of materialId or structure/);
    // The structure is parsed before any model weights are needed.
    await assert.rejects(
      similarMaterials(db, { structure: { format: 'CIF', text: 'data_x\n_cell_length_a 3\n' }, k: 3 }, LIMITS),
      (error: unknown) => error instanceof BadInputError && /CIF/.test((error as Error).message),
    );
    await assert.rejects(labelMaterialWithScreening(db, { materialId: data.materialIds[20]!, class: 'MAYBE' as never }), BadInputError);
    assert.deepEqual(await counts(), before);
  });

  test('a class without references is reported, not ranked', async () => {
    const { db } = database();
    await db.updateTable('material').set({ current_label_class: null }).where('current_label_class', '=', 'POOR').execute();
    await rescoreModel(db, data.modelId);
    await assert.rejects(screen(db, { first: 5 }), /has 5 FAST and 0 POOR references/);
  });

  test('a model with a distance scale: every score averages bounded distances (ALL, NEAREST, label changes, folds, per material, a query vector)', async () => {
    const { db } = database();
    const plainData = await seedDataset(db);
    await rescoreModel(db, plainData.modelId);
    const plain = await recomputeRanking(db, plainData.modelId);
    // The same embeddings and labels under a model whose scale is small against their distances.
    data = await seedDataset(db, 'EUCLIDEAN', 0.3);
    await rescoreModel(db, data.modelId);
    const bounded = await recomputeRanking(db, data.modelId);
    assert.notDeepEqual(bounded.map((r) => r.materialId), plain.map((r) => r.materialId), 'the scale changes the order here, so the check below can fail');
    assertSameRanking(await readWholeRanking(db, {}, 7), bounded, 'bounded, full re-score');
    assert.ok(bounded.every((r) => r.meanDistanceToFast < 1 && r.meanDistanceToPoor < 1), 'bounded means lie below 1');

    await labelMaterialWithScreening(db, { materialId: data.materialIds[20]!, class: 'FAST' }, 'test', { fold: 'none' });
    assertSameRanking(await readWholeRanking(db, {}, 7), await recomputeRanking(db, data.modelId), 'bounded, label pending');
    await foldScreening(db, data.modelId);
    assertSameRanking(await readWholeRanking(db, {}, 7), await recomputeRanking(db, data.modelId), 'bounded, folded');
    const nearest = await recomputeRanking(db, data.modelId, { mode: 'NEAREST', k: 3 });
    assertSameRanking(await readWholeRanking(db, { reference: { mode: 'NEAREST', k: 3 } }, 8), nearest, 'bounded NEAREST(3)');

    const top = (await recomputeRanking(db, data.modelId))[0]!;
    const [own] = await screeningOfMaterials(db, {}, [top.materialId]);
    assert.ok(Math.abs(own!.score - top.score) <= 1e-5, 'Material.screening');
    // A vector that is not stored (scoreStructure / scoreComposition) is summed the same way.
    const { rows } = await sql<{ vec: string }>`select vec::text as vec from embedding where model_id = ${data.modelId}::bigint and material_id = ${top.materialId}::bigint`.execute(db);
    const sums = await referenceSums(db, { modelId: data.modelId, dim: DIM, distance: 'EUCLIDEAN', distanceScale: 0.3 }, rows[0]!.vec);
    assert.ok(Math.abs(sums.sumFast / sums.nFast - top.meanDistanceToFast) <= 1e-5 && Math.abs(sums.sumPoor / sums.nPoor - top.meanDistanceToPoor) <= 1e-5);
  });

  test('COSINE models are ranked with the cosine distance', async () => {
    const { db } = database();
    data = await seedDataset(db, 'COSINE');
    await rescoreModel(db, data.modelId);
    await labelMaterialWithScreening(db, { materialId: data.materialIds[25]!, class: 'POOR' }, 'test', { fold: 'none' });
    assertSameRanking(await readWholeRanking(db, {}, 9), await recomputeRanking(db, data.modelId), 'cosine');
  });
});

/** Exact k nearest ids among `ids[i]` with pick(i), the query excluded (Euclidean). */
function exactNeighbours(vectors: readonly Float32Array[], ids: readonly string[], queryId: string, pick: (i: number) => boolean, k: number): string[] {
  const q = vectors[ids.indexOf(queryId)]!;
  return ids
    .map((id, i) => ({ id, i, d: Math.hypot(...Array.from(q, (x, j) => x - vectors[i]![j]!)) }))
    .filter((r) => r.id !== queryId && pick(r.i))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((r) => r.id);
}
