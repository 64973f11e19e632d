/**
 * Every GraphQL document the dashboard sends is valid against the server's schema, so a schema
 * change that breaks the dashboard fails here rather than in a user's browser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, validate } from 'graphql';
import { buildIonsieveSchema } from '../../src/graphql/build-schema.js';
import * as dashboard from '../../web/src/api/queries.js';

test('every dashboard document validates against the schema', async () => {
  const schema = await buildIonsieveSchema();
  const built: Record<string, string> = {};
  for (const distance of dashboard.DISTANCES) {
    for (const evaluation of dashboard.EVALUATIONS) built[`trainModel ${distance} ${evaluation}`] = dashboard.trainModelDocument(distance, evaluation);
  }
  built.modelDocument = dashboard.modelDocument('');
  built.trainingProgressDocument = dashboard.trainingProgressDocument('{ modelId status progress { epoch maxEpochs trainLoss } }');
  const documents = [...Object.entries(dashboard), ...Object.entries(built)].filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && /\b(query|mutation|subscription)\b/.test(entry[1]),
  );
  assert.ok(documents.length >= 20, `found ${documents.length} documents`);
  for (const [name, text] of documents) {
    assert.deepEqual(validate(schema, parse(text)).map((e) => e.message), [], name);
  }
});
