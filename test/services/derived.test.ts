import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { beforeEach, test } from 'node:test';
import { DERIVED_VERSION, refreshDerivedFacts } from '../../src/services/derived.js';
import { addMaterials } from '../../src/services/materials.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';

const LICL = readFileSync(new URL('../fixtures/graphql/licl-rocksalt-p1.cif', import.meta.url), 'utf8');
const limits = { maxSites: 2000, maxTextBytes: 5 * 1024 * 1024, maxBatchSize: 100 };

describeDatabases('derived material facts', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('rows written by an older version are brought up to date, once', async () => {
    const { db } = database();
    await addMaterials(db, [{ structure: { format: 'CIF', text: LICL } }, { composition: 'Li3PS4' }], limits);
    const read = () => db.selectFrom('material').select(['id', 'space_group_number', 'space_group_symbol', 'derived_version']).orderBy('id').execute();
    const current = await read();
    assert.deepEqual(current.map((r) => r.derived_version), [DERIVED_VERSION, DERIVED_VERSION]);
    assert.equal(current[0]!.space_group_number, 225);

    // As a store migrated from before: the columns at their defaults.
    await db.updateTable('material').set({ space_group_number: null, space_group_symbol: null, derived_version: 0 }).execute();
    assert.equal(await refreshDerivedFacts(db, { batchSize: 1 }), 2);
    assert.deepEqual(await read(), current);
    assert.equal(await refreshDerivedFacts(db), 0, 'nothing left to do');
  });
});
