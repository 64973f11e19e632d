/** The committed SDL (schema/schema.graphql) must match the schema built from the resolvers. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { buildIonsieveSchema } from '../../src/graphql/build-schema.js';
import { renderSchemaSdl, SCHEMA_FILE } from '../../src/graphql/emit-schema.js';

test('schema/schema.graphql is up to date (regenerate with `npm run schema`)', async () => {
  const built = renderSchemaSdl(await buildIonsieveSchema());
  const committed = await readFile(SCHEMA_FILE, 'utf8');
  assert.ok(
    committed === built,
    'schema/schema.graphql is stale: the resolvers changed the schema. Run `npm run schema` ' +
      '(or `npx tsx src/graphql/emit-schema.ts`) and commit the result.',
  );
});

test('the schema exposes the contract names', async () => {
  const schema = await buildIonsieveSchema();
  const fieldsOf = (typeName: string) => {
    const type = schema.getType(typeName);
    assert.ok(type && 'getFields' in type, `${typeName} is missing`);
    return Object.keys((type as { getFields(): Record<string, unknown> }).getFields()).sort();
  };
  for (const field of ['material', 'materials', 'labels']) assert.ok(fieldsOf('Query').includes(field), field);
  for (const field of ['addMaterials', 'labelMaterial', 'retractLabel']) assert.ok(fieldsOf('Mutation').includes(field), field);
  for (const field of ['id', 'kind', 'formula', 'reducedFormula', 'elements', 'nelements', 'nsites', 'natoms', 'isOrdered',
    'volume', 'density', 'lattice', 'sites', 'label', 'labels', 'cif', 'json']) {
    assert.ok(fieldsOf('Material').includes(field), `Material.${field}`);
  }
  for (const field of ['id', 'class', 'conductivity', 'temperature', 'source', 'reason', 'createdBy', 'createdAt', 'retracted', 'material']) {
    assert.ok(fieldsOf('Label').includes(field), `Label.${field}`);
  }
  assert.deepEqual(fieldsOf('PageInfo'), ['endCursor', 'hasNextPage', 'hasPreviousPage', 'startCursor']);
  assert.deepEqual(fieldsOf('AddMaterialInput'), ['allowUnusualDensity', 'composition', 'name', 'source', 'structure']);
});
