/**
 * Screening through the GraphQL API: screen pages against a recompute, labelMaterial updating the
 * ranking, similarMaterials and scoreStructure embedding uploaded structure text with a tiny
 * random-weight model stored in the database, Material.screening / Material.similar, and errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { buildCrystalGraph } from '../../src/graph/index.js';
import { createModel, embedStructures, initBackend, resolveHyperparameters, saveArtifact } from '../../src/model/index.js';
import { clearServingModels } from '../../src/services/embeddings.js';
import { addMaterials } from '../../src/services/materials.js';
import { rescoreModel, screeningFoldsIdle } from '../../src/services/screening.js';
import { toVectorLiteral } from '../../src/store/vector.js';
import { structureToCif, structureToJson, type Structure } from '../../src/structure/index.js';
import { randomCrystal } from '../support/crystals.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { countingDb, dataOf, execute, onlyError, testConfig, testServer } from '../graphql/harness.js';
import { MATERIAL_QUERY, SCREEN_QUERY, SIMILAR_QUERY } from '../../bench/load-workload.js';
import { insertMaterials, insertModel, recomputeRanking, setLabelsDirectly, SCORE_TOLERANCE } from './fixtures.js';

const HYPERPARAMETERS = resolveHyperparameters({ k: 4, layers: 2, featureLength: 8, denseLength: 8, embeddingDim: 6, seed: 5 });

const SCREEN = /* GraphQL */ `
  query Screen($modelId: ID, $first: Int!, $after: String, $filter: MaterialFilter, $reference: ReferenceInput, $minScore: Float) {
    screen(modelId: $modelId, first: $first, after: $after, filter: $filter, reference: $reference, minScore: $minScore) {
      modelId threshold referenceMode referenceK totalCount leftOut
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges {
        cursor rank score predictedClass meanDistanceToFast meanDistanceToPoor
        nearestFast(k: 2) { rank distance material { id currentLabel: label { class } } }
        node { id reducedFormula }
      }
    }
  }
`;

const SIMILAR = /* GraphQL */ `
  query Similar($input: SimilarMaterialsInput!) {
    similarMaterials(input: $input) { rank distance material { id } }
  }
`;

const SCORE_STRUCTURE = /* GraphQL */ `
  query Score($structure: StructureInput!, $modelId: ID, $reference: ReferenceInput) {
    scoreStructure(structure: $structure, modelId: $modelId, reference: $reference) {
      modelId score predictedClass threshold meanDistanceToFast meanDistanceToPoor referenceMode
      nearestFast(k: 3) { rank distance material { id } }
    }
  }
`;

const MATERIAL = /* GraphQL */ `
  query Material($id: ID!) {
    material(id: $id) {
      id
      screening { score predictedClass meanDistanceToFast nearestFast(k: 1) { material { id } } }
      nearest: screening(reference: { mode: NEAREST, k: 2 }) { score referenceMode }
      similar(k: 3) { rank distance material { id } }
      similarFast: similar(k: 2, label: FAST) { material { id label { class } } }
    }
  }
`;

const LABEL = /* GraphQL */ `
  mutation Label($input: LabelMaterialInput!) { labelMaterial(input: $input) { id } }
`;

describeDatabases('GraphQL screening', (database) => {
  let modelId: string;
  let structures: { id: string; structure: Structure }[];
  let bare: string[];

  before(async () => {
    const { db } = database();
    await resetDatabase(db);
    await clearServingModels();
    await initBackend('wasm');
    const model = createModel(HYPERPARAMETERS);
    try {
      modelId = await insertModel(db, { dim: HYPERPARAMETERS.embeddingDim, active: true, weights: saveArtifact(model), threshold: 1.05 });
      const crystals = Array.from({ length: 16 }, (_, i) => randomCrystal(100 + i, 3 + (i % 4)));
      const stored = await addMaterials(
        db,
        crystals.map((s, i) => ({ structure: { format: 'JSON' as const, text: JSON.stringify(structureToJson(s)) }, name: `c${i}` })),
        { maxSites: 100, maxTextBytes: 100_000, maxBatchSize: 100 },
      );
      structures = stored.map((m) => ({ id: m.id, structure: m.structure! }));
      bare = await insertMaterials(db, 2); // compositions: no embedding, left out
      const vectors = embedStructures(model, structures.map((m) => buildCrystalGraph(m.structure, { k: HYPERPARAMETERS.k })));
      await db
        .insertInto('embedding')
        .values(structures.map((m, i) => ({ model_id: modelId, material_id: m.id, vec: toVectorLiteral(vectors[i]!) })))
        .execute();
      await setLabelsDirectly(db, new Map(structures.slice(0, 6).map((m, i) => [m.id, i % 2 === 0 ? 'FAST' : 'POOR'] as const)));
      await rescoreModel(db, modelId);
    } finally {
      model.dispose();
    }
  });

  after(async () => {
    await screeningFoldsIdle(database().db);
    await clearServingModels();
  });

  test('screen pages match the recompute; labelMaterial updates every score before it returns', async () => {
    const { db } = database();
    const server = await testServer();
    const read = async () => {
      const edges: any[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = dataOf(await execute(server, SCREEN, { first: 4, after }, { db })).screen;
        assert.equal(page.modelId, modelId);
        assert.equal(page.threshold, 1.05);
        assert.equal(page.referenceMode, 'ALL');
        assert.equal(page.leftOut, 2);
        edges.push(...page.edges);
        assert.equal(page.totalCount, edges.length + (page.pageInfo.hasNextPage ? page.totalCount - edges.length : 0));
        if (!page.pageInfo.hasNextPage) return edges;
        after = page.pageInfo.endCursor;
      }
    };
    const check = async (context: string) => {
      const edges = await read();
      const expected = await recomputeRanking(db, modelId);
      assert.deepEqual(edges.map((e) => e.node.id), expected.map((r) => r.materialId), context);
      edges.forEach((edge, i) => {
        assert.equal(edge.rank, i + 1);
        assert.ok(Math.abs(edge.score - expected[i]!.score) <= SCORE_TOLERANCE, `${context}: score`);
        assert.ok(Math.abs(edge.meanDistanceToFast - expected[i]!.meanDistanceToFast) <= SCORE_TOLERANCE);
        assert.equal(edge.predictedClass, edge.score > 1.05 ? 'FAST' : 'POOR');
        assert.equal(edge.nearestFast.length, 2);
        assert.ok(edge.nearestFast[0].distance <= edge.nearestFast[1].distance);
        assert.ok(edge.nearestFast.every((n: any) => n.material.currentLabel?.class === 'FAST'));
      });
      return edges;
    };
    const before = await check('initial');
    const top = before[0].node.id;
    dataOf(await execute(server, LABEL, { input: { materialId: top, class: 'FAST' } }, { db }));
    // No waiting for the background fold: the ranking is already exact.
    const afterLabel = await check('after labelMaterial');
    assert.ok(!afterLabel.some((e) => e.node.id === top), 'a labelled material leaves the ranking');
    assert.ok(afterLabel.some((e) => e.nearestFast.some((n: any) => n.material.id === top)), 'and is a FAST reference');
    await screeningFoldsIdle(db);
    await check('after the fold');
  });

  test('round trips of the bench:load reads: a screen page 3, material by id 3, similarMaterials by id 3', async () => {
    const { db } = database();
    const server = await testServer();
    const statements = async (query: string, variables: Record<string, unknown>) => {
      const { db: counted, counter } = countingDb(db);
      dataOf(await execute(server, query, variables, { db: counted }));
      return counter.count;
    };
    const candidate = structures[12]!.id;
    // The view, the page (with the candidates' rows), nearestFast (with the neighbours' rows);
    // candidates are unlabelled, so node.label costs nothing.
    assert.equal(await statements(SCREEN_QUERY, { first: 8 }), 3);
    const page = dataOf(await execute(server, SCREEN_QUERY, { first: 2 }, { db })).screen;
    assert.equal(await statements(SCREEN_QUERY, { first: 8, after: page.pageInfo.endCursor }), 3);
    // The material, the view, its score; no label query for an unlabelled material.
    assert.equal(await statements(MATERIAL_QUERY, { id: candidate }), 3);
    // The model and view, the kNN with the neighbours' rows (an exact scan: a small store, no
    // transaction), and the current labels of the labelled neighbours.
    assert.equal(await statements(SIMILAR_QUERY, { id: candidate }), 3);
  });

  test('similarMaterials: by id, and by uploaded structure text embedded with the model weights', async () => {
    const { db } = database();
    const server = await testServer();
    const target = structures[9]!;
    const byId = dataOf(await execute(server, SIMILAR, { input: { materialId: target.id, k: 4 } }, { db })).similarMaterials;
    assert.equal(byId.length, 4);
    assert.ok(!byId.some((n: any) => n.material.id === target.id), 'a material is not its own neighbour');

    for (const structure of [
      { format: 'JSON', text: JSON.stringify(structureToJson(target.structure)) },
      { format: 'CIF', text: structureToCif(target.structure, 'upload') },
    ]) {
      const neighbours = dataOf(await execute(server, SIMILAR, { input: { structure, k: 5 } }, { db })).similarMaterials;
      assert.equal(neighbours.length, 5);
      assert.equal(neighbours[0].material.id, target.id, `${structure.format}: the same crystal is nearest`);
      assert.ok(neighbours[0].distance < 1e-3, `${structure.format}: distance ${neighbours[0].distance}`);
      assert.deepEqual(neighbours.slice(1).map((n: any) => n.material.id), byId.map((n: any) => n.material.id));
    }
    const fast = dataOf(
      await execute(server, SIMILAR, { input: { structure: { format: 'JSON', text: JSON.stringify(structureToJson(target.structure)) }, k: 100, label: 'FAST' } }, { db }),
    ).similarMaterials;
    const { rows } = await sql<{ n: string }>`select count(*) as n from material where current_label_class = 'FAST'`.execute(db);
    assert.equal(fast.length, Number(rows[0]!.n), 'every FAST material, no more');
  });

  test('scoreStructure of a stored candidate equals its ranking score and Material.screening; nothing is stored', async () => {
    const { db } = database();
    const server = await testServer();
    const countRows = async () =>
      (await sql<{ n: string }>`select (select count(*) from material) + (select count(*) from embedding) + (select count(*) from screening_event) as n`.execute(db)).rows[0]!.n;
    const before = await countRows();
    const ranking = await recomputeRanking(db, modelId);
    const candidate = structures.find((m) => m.id === ranking[2]!.materialId)!;
    const result = dataOf(
      await execute(server, SCORE_STRUCTURE, { structure: { format: 'JSON', text: JSON.stringify(structureToJson(candidate.structure)) } }, { db }),
    ).scoreStructure;
    assert.ok(Math.abs(result.score - ranking[2]!.score) < 1e-4, `${result.score} vs ${ranking[2]!.score}`);
    assert.equal(result.referenceMode, 'ALL');
    assert.equal(result.nearestFast.length, 3);
    assert.equal(await countRows(), before);

    const material = dataOf(await execute(server, MATERIAL, { id: candidate.id }, { db })).material;
    assert.ok(Math.abs(material.screening.score - ranking[2]!.score) <= SCORE_TOLERANCE);
    assert.equal(material.nearest.referenceMode, 'NEAREST');
    assert.equal(material.similar.length, 3);
    assert.equal(material.similarFast.length, 2);
    assert.ok(material.similarFast.every((n: any) => n.material.label.class === 'FAST'));
    const composition = dataOf(await execute(server, MATERIAL, { id: bare[0] }, { db })).material;
    assert.equal(composition.screening, null);
    assert.deepEqual(composition.similar, []);

    const nearest = dataOf(
      await execute(server, SCORE_STRUCTURE, { structure: { format: 'JSON', text: JSON.stringify(structureToJson(candidate.structure)) }, reference: { mode: 'NEAREST', k: 2 } }, { db }),
    ).scoreStructure;
    assert.ok(Math.abs(nearest.score - material.nearest.score) < 1e-4);
  });

  test('errors: unknown model, model not READY, k out of range, unparsable structure, NEAREST without k', async () => {
    const { db } = database();
    const server = await testServer();
    const training = await insertModel(db, { dim: 6, status: 'TRAINING' });
    const cases: [string, Record<string, unknown>, string][] = [
      [SCREEN, { first: 3, modelId: '424242' }, 'NOT_FOUND'],
      [SCREEN, { first: 3, modelId: training }, 'MODEL_NOT_READY'],
      [SCREEN, { first: 3, reference: { mode: 'NEAREST' } }, 'BAD_USER_INPUT'],
      [SCREEN, { first: 3, reference: { mode: 'NEAREST', k: 101 } }, 'BAD_USER_INPUT'],
      [SCREEN, { first: 3, after: 'garbage' }, 'BAD_USER_INPUT'],
      [SIMILAR, { input: { materialId: structures[7]!.id, k: 0 } }, 'BAD_USER_INPUT'],
      [SIMILAR, { input: { structure: { format: 'CIF', text: 'data_broken\nloop_\n_atom_site_label\n' }, k: 3 } }, 'BAD_USER_INPUT'],
      [SIMILAR, { input: { materialId: structures[7]!.id, structure: { format: 'CIF', text: 'x' }, k: 3 } }, 'BAD_USER_INPUT'],
      [SCORE_STRUCTURE, { structure: { format: 'POSCAR', text: 'not a poscar' } }, 'BAD_USER_INPUT'],
      [SCORE_STRUCTURE, { structure: { format: 'JSON', text: '{}' } }, 'BAD_USER_INPUT'],
      [SCORE_STRUCTURE, { structure: { format: 'JSON', text: '{}' }, modelId: training }, 'MODEL_NOT_READY'],
    ];
    const writes = async () => (await sql<{ n: string }>`select (select count(*) from screening_event) + (select count(*) from material) as n`.execute(db)).rows[0]!.n;
    const before = await writes();
    for (const [query, variables, code] of cases) {
      const error = onlyError(await execute(server, query, variables, { db }));
      assert.equal(error.extensions?.code, code, `${JSON.stringify(variables)}: ${error.message}`);
    }
    assert.equal(await writes(), before);
    assert.ok(testConfig.maxSites > 0);
  });
});
