/**
 * Reads never write: screen, Material.screening and labelled neighbours issue no statement that
 * writes, whether the model has its screening scores or not. A model without them is reported as
 * not ready (MODEL_NOT_READY, saying how to build them) instead of being re-scored by the read;
 * activation writes them.
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { sql, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { ScreeningNotReadyError } from '../../src/errors.js';
import { activateModel } from '../../src/services/models.js';
import { screen, screeningFoldsIdle, screeningOfMaterials, similarMaterials } from '../../src/services/screening.js';
import type { Db } from '../../src/store/database.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { insertEmbeddings, insertMaterials, insertModel, randomVectors, setLabelsDirectly } from './fixtures.js';

const LIMITS = { maxSites: 200, maxTextBytes: 100_000 };
const WRITE = /^\s*(?:with\b[\s\S]*?\b)?(insert|update|delete|create|drop|alter|truncate|merge|refresh|cluster|vacuum|analyze|lock)\b/i;

/** A handle on `db` that records every statement it runs that writes (or takes a table lock). */
function recordingWrites(db: Db): { db: Db; writes: string[] } {
  const writes: string[] = [];
  const plugin: KyselyPlugin = {
    transformQuery({ node }: { node: RootOperationNode }) {
      if (node.kind === 'InsertQueryNode' || node.kind === 'UpdateQueryNode' || node.kind === 'DeleteQueryNode' || node.kind === 'MergeQueryNode') {
        writes.push(node.kind);
      } else if (node.kind === 'RawNode') {
        const text = node.sqlFragments.join('?');
        if (WRITE.test(text)) writes.push(text.trim().slice(0, 80));
      } else if (node.kind !== 'SelectQueryNode') {
        writes.push(node.kind);
      }
      return node;
    },
    async transformResult({ result }) {
      return result;
    },
  };
  return { db: db.withPlugin(plugin) as Db, writes };
}

async function screeningStates(db: Db): Promise<string[]> {
  const { rows } = await sql<{ model_id: string }>`select model_id::text as model_id from screening_state order by model_id`.execute(db);
  return rows.map((r) => r.model_id);
}

describeDatabases('reads never write', (database) => {
  let modelId: string;
  let materialIds: string[];

  beforeEach(async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    await resetDatabase(db);
    // A READY model whose rows were written behind the services' back: no screening scores.
    modelId = await insertModel(db, { dim: 4 });
    materialIds = await insertMaterials(db, 12);
    await insertEmbeddings(db, modelId, materialIds, randomVectors(materialIds.length, 4, 3));
    await setLabelsDirectly(db, new Map(materialIds.slice(0, 4).map((id, i) => [id, i % 2 === 0 ? 'FAST' : 'POOR'] as const)));
  });

  test('a model without screening scores is not ready to read, and the read builds nothing', async () => {
    const recorded = recordingWrites(database().db);
    const notReady = (error: unknown) => {
      assert.ok(error instanceof ScreeningNotReadyError, String(error));
      assert.equal(error.code, 'MODEL_NOT_READY');
      assert.match(error.message, new RegExp(`model ${modelId} has no screening scores yet.*trained, installed or activated`));
      return true;
    };
    await assert.rejects(screen(recorded.db, { modelId, first: 5 }), notReady);
    await assert.rejects(screeningOfMaterials(recorded.db, { modelId }, materialIds.slice(4, 6)), notReady);
    await assert.rejects(similarMaterials(recorded.db, { modelId, materialId: materialIds[5]!, k: 2, label: 'FAST' }, LIMITS), notReady);
    assert.deepEqual(recorded.writes, [], 'no statement of these reads writes');
    assert.deepEqual(await screeningStates(database().db), [], 'no screening state was built');
  });

  test('activation writes the scores; reads of a scored model write nothing', async () => {
    const { db } = database();
    const activation = recordingWrites(db);
    await activateModel(activation.db, modelId);
    assert.deepEqual(await screeningStates(db), [modelId], 'activation scored the model');
    assert.ok(activation.writes.some((w) => /^create table/i.test(w)), `the recorder sees the re-score's writes: ${activation.writes.join(' | ')}`);

    const recorded = recordingWrites(db);
    const page = await screen(recorded.db, { first: 5 });
    assert.equal(page.modelId, modelId);
    assert.equal(page.items.length, 5);
    const scores = await screeningOfMaterials(recorded.db, { modelId }, materialIds.slice(0, 6));
    assert.ok(scores.every((s) => s !== null));
    const fast = await similarMaterials(recorded.db, { materialId: materialIds[5]!, k: 2, label: 'FAST' }, LIMITS);
    assert.equal(fast.length, 2);
    assert.deepEqual(recorded.writes, [], 'no statement of these reads writes');
  });
});
