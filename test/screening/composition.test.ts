/**
 * One embedding space for structures and formulas: an embedding job embeds formula-only materials
 * through the model's composition pathway; scoreComposition scores a formula against the current
 * references by the same ratio as a stored material; bad formulas and structure-only models are
 * refused; ScreeningResult.outOfDomain flags a query beyond the references' own spacing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createModel, embedStructures, embeddingWidth, initBackend, loadModel, resolveHyperparameters, saveArtifact, trainDefaultHyperparameters, type ModelArtifact } from '../../src/model/index.js';
import { compositionOnlyGraph } from '../../src/graph/index.js';
import { parseComposition } from '../../src/structure/index.js';
import { clearServingModels, embedMissingMaterials } from '../../src/services/embeddings.js';
import { addMaterials } from '../../src/services/materials.js';
import { rescoreModel, screeningFoldsIdle } from '../../src/services/screening.js';
import { domainRadiusOf } from '../../src/services/applicability-domain.js';
import { pairwiseDistances } from '../../src/scoring/score.js';
import { parseVectorLiteral } from '../../src/store/vector.js';
import { structureToJson } from '../../src/structure/index.js';
import { randomCrystal } from '../support/crystals.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { dataOf, execute, onlyError, testServer } from '../graphql/harness.js';
import { insertEmbeddings, insertModel, setLabelsDirectly, SCORE_TOLERANCE } from './fixtures.js';

const H = resolveHyperparameters({ ...trainDefaultHyperparameters, k: 4, layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, members: 2, seed: 3 });
const LIMITS = { maxSites: 100, maxTextBytes: 100_000, maxBatchSize: 100 };
const FORMULAS = ['Li3PS4', 'Li7La3Zr2O12', 'LiCl', 'Li2S', 'LiTi2(PO4)3', 'Li3N'];

const SCORE_COMPOSITION = /* GraphQL */ `
  query Score($formula: String!, $modelId: ID) {
    scoreComposition(formula: $formula, modelId: $modelId) {
      modelId score predictedClass meanDistanceToFast meanDistanceToPoor outOfDomain nearestReferenceDistance domainRadius
      nearestFast(k: 2) { rank distance material { id } }
    }
  }
`;

const MATERIAL = /* GraphQL */ `
  query Material($id: ID!, $modelId: ID) {
    material(id: $id) { id screening(modelId: $modelId) { score outOfDomain nearestReferenceDistance domainRadius } }
  }
`;

describeDatabases('scoreComposition and the applicability domain', (database) => {
  let modelId: string;
  let ids: string[];
  let structureOnlyModel: string;

  before(async () => {
    const { db } = database();
    await resetDatabase(db);
    await clearServingModels();
    await initBackend('wasm');
    const model = createModel(H);
    try {
      modelId = await insertModel(db, { dim: H.embeddingDim * H.members, active: true, weights: saveArtifact(model) });
      const structures = await addMaterials(
        db,
        Array.from({ length: 6 }, (_, i) => ({ structure: { format: 'JSON' as const, text: JSON.stringify(structureToJson(randomCrystal(40 + i, 3))) } })),
        LIMITS,
      );
      const formulas = await addMaterials(db, FORMULAS.map((composition) => ({ composition })), LIMITS);
      ids = [...structures, ...formulas].map((m) => m.id);
    } finally {
      model.dispose();
    }
    const embedded = await embedMissingMaterials(db, modelId, { threads: 1 });
    assert.equal(embedded.embedded, 12, 'structures and formula-only materials are embedded');
    // FAST and POOR references among both kinds; the rest are candidates.
    await setLabelsDirectly(db, new Map([[ids[0]!, 'FAST'], [ids[1]!, 'POOR'], [ids[6]!, 'FAST'], [ids[7]!, 'POOR'], [ids[8]!, 'POOR']] as const));
    await rescoreModel(db, modelId);
    structureOnlyModel = await insertModel(db, { dim: 6, weights: saveArtifact(createModel(resolveHyperparameters({ k: 4, layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 6 }))) });
  });

  after(async () => {
    await screeningFoldsIdle(database().db);
    await clearServingModels();
  });

  test('a formula-only material is embedded from its composition, as the model embeds the formula itself', async () => {
    const { db } = database();
    const row = await db.selectFrom('embedding').select('vec').where('model_id', '=', modelId).where('material_id', '=', ids[6]!).executeTakeFirstOrThrow();
    const stored = parseVectorLiteral(row.vec as unknown as string);
    assert.equal(stored.length, embeddingWidth(H));
    const artifact = (await db.selectFrom('model').select('weights').where('id', '=', modelId).executeTakeFirstOrThrow()).weights;
    const model = loadModel(artifact as unknown as ModelArtifact);
    try {
      const [direct] = embedStructures(model, [compositionOnlyGraph(parseComposition(FORMULAS[0]!).amounts, H.k)]);
      assert.ok(direct!.every((x, i) => Math.abs(x - stored[i]!) < 1e-6));
    } finally {
      model.dispose();
    }
  });

  test('scoreComposition: the ratio against every reference, like a stored material with that formula', async () => {
    const { db } = database();
    const server = await testServer();
    const result = dataOf(await execute(server, SCORE_COMPOSITION, { formula: 'Li3PS4' }, { db })).scoreComposition;
    assert.equal(result.modelId, modelId);
    // The stored Li3PS4 (a FAST reference) is the same formula: its own embedding, distance 0 from the query.
    assert.equal(result.nearestFast[0].material.id, ids[6]);
    assert.ok(result.nearestFast[0].distance < 1e-5);
    // Oracle: mean distances from the stored vector to the references.
    const rows = await db.selectFrom('embedding').select(['material_id', 'vec']).where('model_id', '=', modelId).execute();
    const vec = new Map(rows.map((r) => [String(r.material_id), parseVectorLiteral(r.vec as unknown as string)]));
    const q = vec.get(ids[6]!)!;
    const mean = (refs: string[]) => refs.reduce((s, id) => s + pairwiseDistances([q, vec.get(id)!], 'EUCLIDEAN')[1]!, 0) / refs.length;
    assert.ok(Math.abs(result.meanDistanceToFast - mean([ids[0]!, ids[6]!])) < SCORE_TOLERANCE);
    assert.ok(Math.abs(result.meanDistanceToPoor - mean([ids[1]!, ids[7]!, ids[8]!])) < SCORE_TOLERANCE);
    assert.ok(Math.abs(result.score - result.meanDistanceToPoor / result.meanDistanceToFast) < 1e-9);
    // Unchanged by the query: nothing stored.
    assert.equal(Number((await db.selectFrom('material').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n), 12);
  });

  test('bad formulas and structure-only models are refused with BAD_USER_INPUT naming the problem', async () => {
    const { db } = database();
    const server = await testServer();
    const typo = onlyError(await execute(server, SCORE_COMPOSITION, { formula: 'Li6PS5Xx' }, { db }));
    assert.equal(typo.extensions?.code, 'BAD_USER_INPUT');
    assert.match(typo.message, /Xx/);
    const empty = onlyError(await execute(server, SCORE_COMPOSITION, { formula: '  ' }, { db }));
    assert.equal(empty.extensions?.code, 'BAD_USER_INPUT');
    const slots = onlyError(await execute(server, SCORE_COMPOSITION, { formula: 'Li3PS4', modelId: structureOnlyModel }, { db }));
    assert.equal(slots.extensions?.code, 'BAD_USER_INPUT');
    assert.match(slots.message, /structures only/);
  });

  test('outOfDomain: a query farther from every reference than the references are from each other', async () => {
    const { db } = database();
    const server = await testServer();
    // A material whose embedding sits far outside the references (written directly).
    const rows = await db.selectFrom('embedding').select(['material_id', 'vec']).where('model_id', '=', modelId).execute();
    const references = [ids[0]!, ids[1]!, ids[6]!, ids[7]!, ids[8]!];
    const refVectors = references.map((id) => parseVectorLiteral(rows.find((r) => String(r.material_id) === id)!.vec as unknown as string));
    const radius = domainRadiusOf(refVectors, 'EUCLIDEAN')!;
    const [far] = await addMaterials(db, [{ composition: 'LiF' }], LIMITS);
    await insertEmbeddings(db, modelId, [far!.id], [refVectors[0]!.map((x) => x + 1000)]);
    await rescoreModel(db, modelId);
    const farResult = dataOf(await execute(server, MATERIAL, { id: far!.id }, { db })).material.screening;
    assert.equal(farResult.outOfDomain, true);
    assert.ok(Math.abs(farResult.domainRadius - radius) < 1e-6);
    assert.ok(farResult.nearestReferenceDistance > radius);
    // A reference itself is scored leave-self-out; its nearest other reference is within the radius or not by definition.
    const candidate = dataOf(await execute(server, MATERIAL, { id: ids[2]! }, { db })).material.screening;
    assert.equal(candidate.outOfDomain, candidate.nearestReferenceDistance > candidate.domainRadius);
  });
});

test('domainRadiusOf: the 95th percentile of nearest-other distances', () => {
  // Points on a line at 0, 1, 2, 3 and 10: nearest-other distances 1, 1, 1, 1, 7.
  const points = [0, 1, 2, 3, 10].map((x) => Float32Array.from([x, 0]));
  const radius = domainRadiusOf(points, 'EUCLIDEAN')!;
  assert.ok(Math.abs(radius - (1 + 0.8 * 6)) < 1e-9); // position 0.95·4 = 3.8 between 1 and 7
  assert.equal(domainRadiusOf(points.slice(0, 1), 'EUCLIDEAN'), null);
});
