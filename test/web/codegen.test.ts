/**
 * The committed web types (web/src/api/graphql.ts) must be what GraphQL Code Generator makes of
 * schema/schema.graphql and the dashboard's documents (web/codegen.ts), like the schema's own check
 * in test/graphql/schema.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generate } from '@graphql-codegen/cli';
import config, { WEB_TYPES_FILE } from '../../web/codegen.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('web/src/api/graphql.ts is up to date (regenerate with `npm run codegen`)', async () => {
  // Generated in memory (not written), from the repository root as `npm run codegen` runs.
  const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: root, silent: true, verbose: false }, false);
  const generated = outputs.find((output) => output.filename.endsWith(WEB_TYPES_FILE));
  assert.ok(generated, `codegen produced no ${WEB_TYPES_FILE}: ${outputs.map((o) => o.filename).join(', ')}`);
  const committed = await readFile(new URL(`../../${WEB_TYPES_FILE}`, import.meta.url), 'utf8');
  assert.ok(
    committed === generated.content,
    `${WEB_TYPES_FILE} is stale: schema/schema.graphql or the documents in web/src/api/queries.ts changed. ` +
      'Run `npm run codegen` and commit the result.',
  );
});
