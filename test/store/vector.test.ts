import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import fc from 'fast-check';
import type { Db } from '../../src/store/database.js';
import {
  createModelVectorIndex,
  dropModelVectorIndex,
  modelVectorIndexName,
  parseVectorLiteral,
  toVectorLiteral,
  vectorDistance,
} from '../../src/store/vector.js';
import { describeDatabases } from '../support/databases.js';

test('vector literals round trip through Float32', () => {
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 64 }), (values) => {
      const parsed = parseVectorLiteral(toVectorLiteral(values));
      // -0 is written as "0"; pgvector does the same.
      const plusZero = (v: number) => (v === 0 ? 0 : v);
      assert.deepEqual(Array.from(parsed, plusZero), Array.from(Float32Array.from(values), plusZero));
    }),
  );
  assert.equal(toVectorLiteral(new Float32Array([1, -2.5, 0])), '[1,-2.5,0]');
  assert.throws(() => toVectorLiteral([1, Number.NaN]), /not finite/);
  assert.throws(() => parseVectorLiteral('1,2'), /not a vector literal/);
});

/** Deterministic pseudo-random vectors (a fixed LCG), so plans and results are reproducible. */
function vectors(count: number, dim: number, seed: number): number[][] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  };
  return Array.from({ length: count }, () => Array.from({ length: dim }, next));
}

async function explain(db: Db, query: { compile(): { sql: string; parameters: readonly unknown[] } }): Promise<string> {
  const compiled = query.compile();
  const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>({
    ...compiled,
    sql: `explain ${compiled.sql}`,
    query: { kind: 'RawNode' } as never,
    queryId: { queryId: 'explain' } as never,
  });
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describeDatabases('per-model HNSW indexes on embedding', (database) => {
  const COUNT = 300;

  test('models of dims 4 and 8 coexist, each with its own index used by kNN', async () => {
    const { db } = database();
    const materialIds = (
      await db
        .insertInto('material')
        .values(
          Array.from({ length: COUNT }, (_, i) => ({
            kind: 'COMPOSITION' as const,
            formula: `Li${i + 1}O`,
            reduced_formula: `Li${i + 1}O`,
            elements: ['Li', 'O'],
            nelements: 2,
            natoms: i + 2,
          })),
        )
        .returning('id')
        .execute()
    ).map((r) => r.id);
    const models = await db
      .insertInto('model')
      .values([
        { name: 'dim4', hyperparameters: '{}', embedding_dim: 4, distance: 'EUCLIDEAN', status: 'READY' },
        { name: 'dim8', hyperparameters: '{}', embedding_dim: 8, distance: 'COSINE', status: 'READY' },
      ])
      .returning(['id', 'embedding_dim', 'distance'])
      .execute();
    const data = new Map<string, number[][]>();
    for (const [k, model] of models.entries()) {
      const vecs = vectors(COUNT, model.embedding_dim!, 7 + k);
      data.set(model.id, vecs);
      await db
        .insertInto('embedding')
        .values(materialIds.map((material_id, i) => ({ model_id: model.id, material_id, vec: toVectorLiteral(vecs[i]!) })))
        .execute();
      await createModelVectorIndex(db, model.id, model.embedding_dim!, model.distance);
      await createModelVectorIndex(db, model.id, model.embedding_dim!, model.distance); // idempotent
    }
    const { rows: indexes } = await sql<{ indexname: string; indexdef: string }>`
      select indexname, indexdef from pg_indexes where tablename = 'embedding' and indexname like 'embedding_hnsw_m%'
      order by indexname`.execute(db);
    assert.deepEqual(
      indexes.map((i) => i.indexname),
      models.map((m) => modelVectorIndexName(m.id)).sort(),
    );

    for (const model of models) {
      const dim = model.embedding_dim!;
      const query = data.get(model.id)![0]!;
      const knn = db
        .selectFrom('embedding')
        .select(['material_id', vectorDistance(dim, model.distance, query).as('distance')])
        .where('model_id', '=', model.id)
        .orderBy(vectorDistance(dim, model.distance, query))
        .limit(5);
      // At 300 rows the planner prefers scanning the model's rows and sorting them; forbid the
      // sort and sequential scans so the test shows the HNSW index *can* serve the query (its
      // expression and partial predicate match), which is what it picks at pool scale.
      const plan = await db.transaction().execute(async (tx) => {
        await sql`set local enable_seqscan = off`.execute(tx);
        await sql`set local enable_sort = off`.execute(tx);
        return explain(tx, knn);
      });
      assert.match(plan, new RegExp(`Index Scan using ${modelVectorIndexName(model.id)}`), plan);

      const hits = await knn.execute();
      assert.equal(hits.length, 5);
      assert.equal(hits[0]!.material_id, materialIds[0]);
      assert.ok(Math.abs(Number(hits[0]!.distance)) < 1e-6);
      // Exact distances, computed here, agree with the order pgvector returns.
      for (let i = 1; i < hits.length; i++) assert.ok(Number(hits[i]!.distance) >= Number(hits[i - 1]!.distance));
      const stored = await db
        .selectFrom('embedding')
        .select('vec')
        .where('model_id', '=', model.id)
        .where('material_id', '=', materialIds[3]!)
        .executeTakeFirstOrThrow();
      assert.equal(parseVectorLiteral(stored.vec).length, dim);
    }

    await dropModelVectorIndex(db, models[0]!.id);
    const { rows: left } = await sql<{ indexname: string }>`
      select indexname from pg_indexes where indexname like 'embedding_hnsw_m%'`.execute(db);
    assert.deepEqual(left.map((r) => r.indexname), [modelVectorIndexName(models[1]!.id)]);

    // Deleting a model removes its embeddings (on delete cascade), leaving the other model's.
    await db.deleteFrom('model').where('id', '=', models[0]!.id).execute();
    const counts = await db
      .selectFrom('embedding')
      .select(['model_id', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('model_id')
      .execute();
    assert.deepEqual(counts.map((c) => [c.model_id, Number(c.n)]), [[models[1]!.id, COUNT]]);
  });

  test('index DDL rejects ids and dims that are not plain integers', async () => {
    const { db } = database();
    await assert.rejects(createModelVectorIndex(db, '1; drop table material', 4, 'EUCLIDEAN'), /invalid model id/);
    await assert.rejects(createModelVectorIndex(db, 1, 0, 'EUCLIDEAN'), /dimension/);
    assert.throws(() => vectorDistance(4, 'EUCLIDEAN', [1, 2, 3]), /3 components/);
  });
});
