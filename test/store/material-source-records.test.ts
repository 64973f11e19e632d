/**
 * findMaterialKeysBySourceRecords (the OPTIMADE import's "already stored?" lookup, one JSON
 * parameter joined through the (source, source_id) index): the rows of exactly the pairs asked for,
 * on both dialects, whatever characters the ids hold.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compositionMaterialRow } from '../../src/services/material-rows.js';
import { findMaterialKeysBySourceRecords, insertMaterialRows } from '../../src/store/material.repository.js';
import { describeDatabases } from '../support/databases.js';

describeDatabases('material keys by source record', (database) => {
  test('returns the stored rows of the pairs asked for, and only those', async () => {
    const { db } = database();
    const stored = [
      { source: 'optimade:mp', sourceId: 'mp-1' },
      { source: 'optimade:mp', sourceId: 'mp-2' },
      { source: 'optimade:alex', sourceId: 'mp-1' },
      { source: 'optimade:odd', sourceId: 'it\'s "quoted" \\ back\\slash, ünïcode ✓ {json}' },
    ];
    const formulas = ['LiCl', 'LiF', 'LiBr', 'LiI'];
    await insertMaterialRows(db, stored.map((r, i) => compositionMaterialRow(formulas[i]!, { source: r.source, sourceId: r.sourceId })));

    const asked = [
      { source: 'optimade:mp', sourceId: 'mp-1' },
      { source: 'optimade:mp', sourceId: 'mp-1' }, // asked twice: one row back
      { source: 'optimade:mp', sourceId: 'mp-3' }, // not stored
      { source: 'optimade:alex', sourceId: 'mp-2' }, // the id is stored, but under another source
      { source: 'optimade:odd', sourceId: stored[3]!.sourceId },
    ];
    const found = await findMaterialKeysBySourceRecords(db, asked);
    assert.deepEqual(
      found.map((k) => `${k.source}|${k.source_id}`).sort(),
      ['optimade:mp|mp-1', `optimade:odd|${stored[3]!.sourceId}`].sort(),
    );
    for (const key of found) assert.match(String(key.id), /^\d+$/);
    assert.deepEqual(await findMaterialKeysBySourceRecords(db, []), []);
  });
});
