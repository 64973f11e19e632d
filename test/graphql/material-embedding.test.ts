/** Material.embedding: the stored vector under the active model or a named one, null without one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { dataOf, execute, testServer } from './harness.js';
import { insertEmbeddings, insertMaterials, insertModel, randomVectors } from '../screening/fixtures.js';

const QUERY = /* GraphQL */ `
  query($modelId: ID) { materials(first: 10) { nodes { id active: embedding named: embedding(modelId: $modelId) } } }
`;

describeDatabases('Material.embedding', (database) => {
  test('returns each material’s vector under the active or a named model, in one page', async () => {
    const server = await testServer();
    const { db } = database();
    await resetDatabase(db);
    const ids = await insertMaterials(db, 4);
    const active = await insertModel(db, { dim: 3, active: true });
    const other = await insertModel(db, { dim: 5 });
    const activeVectors = randomVectors(3, 3, 1);
    const otherVectors = randomVectors(4, 5, 2);
    await insertEmbeddings(db, active, ids.slice(0, 3), activeVectors);
    await insertEmbeddings(db, other, ids, otherVectors);

    const nodes = dataOf(await execute(server, QUERY, { modelId: other }, { db })).materials.nodes as {
      id: string;
      active: number[] | null;
      named: number[] | null;
    }[];
    assert.deepEqual(nodes.map((n) => n.id), ids);
    nodes.forEach((node, i) => {
      assert.deepEqual(node.named, Array.from(otherVectors[i]!));
      if (i < 3) assert.deepEqual(node.active, Array.from(activeVectors[i]!));
      else assert.equal(node.active, null, 'no embedding under the active model');
    });

    const missing = await execute(server, QUERY, { modelId: '987654' }, { db });
    assert.ok(missing.errors && missing.errors.length > 0, 'an unknown model is an error');
    for (const error of missing.errors) assert.equal(error.extensions?.code, 'NOT_FOUND');
  });
});
