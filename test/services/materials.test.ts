import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { BadInputError, NotFoundError } from '../../src/errors.js';
import {
  addMaterials,
  getMaterial,
  listMaterials,
  materialsByIds,
  structuresByMaterialIds,
  type AddMaterialInput,
  type MaterialFilter,
  type MaterialRecord,
} from '../../src/services/materials.js';
import { MATERIAL_SUMMARY_COLUMNS } from '../../src/store/material.repository.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { cubicPoscar, cubicStructureJson } from '../support/structures.js';

const LIMITS = { maxSites: 2000, maxTextBytes: 5 * 1024 * 1024, maxBatchSize: 1000 };

const json = (a: number, elements?: string[]): AddMaterialInput => ({
  structure: { format: 'JSON', text: cubicStructureJson(a, elements) },
});

async function countAll(db: Parameters<typeof listMaterials>[0]): Promise<number> {
  return (await listMaterials(db, {}, { first: 0 })).totalCount;
}

/** Walks every page of a filter; returns the items in order. */
async function allPages(db: Parameters<typeof listMaterials>[0], filter: MaterialFilter, first: number) {
  const items: MaterialRecord[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page = await listMaterials(db, filter, { first, after });
    items.push(...page.items);
    pages++;
    assert.equal(page.hasPreviousPage, after !== null);
    if (!page.hasNextPage) return { items, pages, totalCount: page.totalCount };
    assert.equal(page.items.length, first);
    after = page.endCursor;
  }
}

describeDatabases('materials service', (database) => {
  beforeEach(async () => resetDatabase(database().db));

  test('adds structures (JSON, POSCAR) and compositions with derived facts, in input order', async () => {
    const { db } = database();
    const added = await addMaterials(
      db,
      [
        { ...json(4.1), name: 'LiCl test', source: 'unit test' },
        { composition: 'Li7La3Zr2O12', name: 'LLZO' },
        { structure: { format: 'POSCAR', text: cubicPoscar(5.0, ['Li', 'Na', 'O']) } },
      ],
      { ...LIMITS, actor: 'tester' },
    );
    assert.equal(added.length, 3);
    const [licl, llzo, poscar] = added as [MaterialRecord, MaterialRecord, MaterialRecord];
    assert.equal(licl.kind, 'STRUCTURE');
    assert.equal(licl.reducedFormula, 'LiCl');
    assert.deepEqual(licl.elements, ['Cl', 'Li']);
    assert.equal(licl.nsites, 2);
    assert.ok(Math.abs(licl.volumeA3! - 4.1 ** 3) < 1e-6);
    assert.equal(licl.name, 'LiCl test');
    assert.equal(licl.source, 'unit test');
    assert.equal(licl.structure!.sites.length, 2);
    assert.match(licl.structureHash!, /^[0-9a-f]{16,}$/);
    assert.equal(licl.currentLabelClass, null);

    assert.equal(llzo.kind, 'COMPOSITION');
    assert.equal(llzo.structure, null);
    assert.equal(llzo.structureHash, null);
    assert.equal(llzo.nsites, null);
    assert.equal(llzo.nelements, 4);
    assert.equal(llzo.natoms, 24);
    assert.deepEqual(llzo.elements, ['La', 'Li', 'O', 'Zr']);

    assert.equal(poscar.nelements, 3);
    assert.ok(Number(licl.id) < Number(llzo.id) && Number(llzo.id) < Number(poscar.id));
    assert.equal(llzo.duplicateOf, null, 'a new material is no duplicate');
    const { duplicateOf: _new, ...stored } = llzo;
    assert.deepEqual(await getMaterial(db, llzo.id), stored);
  });

  test('the same structure again (even as another format) returns the existing row', async () => {
    const { db } = database();
    const [first] = await addMaterials(db, [json(4.2)], LIMITS);
    const again = await addMaterials(
      db,
      [{ structure: { format: 'POSCAR', text: cubicPoscar(4.2) } }, json(4.3), json(4.2)],
      LIMITS,
    );
    assert.equal(again[0]!.id, first!.id);
    assert.equal(again[2]!.id, first!.id);
    assert.notEqual(again[1]!.id, first!.id);
    assert.equal(await countAll(db), 2);
  });

  test('a batch with one bad input writes nothing and names the input', async () => {
    const { db } = database();
    await addMaterials(db, [json(3.9)], LIMITS);
    const bad: AddMaterialInput[] = [
      json(4.4),
      { composition: 'Li2O' },
      { structure: { format: 'CIF', text: 'data_broken\n_cell_length_a 5\n' } },
    ];
    await assert.rejects(addMaterials(db, bad, LIMITS), (error: unknown) => {
      assert.ok(error instanceof BadInputError);
      assert.match(error.message, /^inputs\[2\]: /);
      assert.equal(error.details?.index, 2);
      return true;
    });
    await assert.rejects(addMaterials(db, [json(4.5), { composition: 'Xx2O' }], LIMITS), /^BadInputError: inputs\[1\]/);
    await assert.rejects(addMaterials(db, [{ ...json(4.6), composition: 'LiCl' }], LIMITS), /inputs\[0\]: give exactly one/);
    await assert.rejects(addMaterials(db, [{}], LIMITS), /inputs\[0\]: give exactly one/);
    await assert.rejects(addMaterials(db, [json(4.7), json(4.8)], { ...LIMITS, maxBatchSize: 1 }), /at most 1 /);
    await assert.rejects(addMaterials(db, [json(4.9, ['Li', 'Cl', 'Br'])], { ...LIMITS, maxSites: 2 }), /inputs\[0\]: .*too many sites/);
    await assert.rejects(addMaterials(db, [json(5.1)], { ...LIMITS, maxTextBytes: 20 }), /inputs\[0\]: .*bytes/);
    assert.equal(await countAll(db), 1);
  });

  test('filters: elements has all / has only, nelements range, formula; keyset pages', async () => {
    const { db } = database();
    const systems = [
      ['Li', 'Cl'],
      ['Li', 'O'],
      ['Li', 'P', 'S'],
      ['Li', 'Ge', 'P', 'S'],
      ['Na', 'Cl'],
      ['Li', 'La', 'Zr', 'O'],
    ];
    // 6 systems × 5 cells, interleaved so every page mixes systems.
    const inputs: AddMaterialInput[] = [];
    for (let k = 0; k < 5; k++) for (const [i, elements] of systems.entries()) inputs.push(json(4 + i * 0.5 + k * 0.01, elements));
    inputs.push({ composition: 'Li3PS4' }, { composition: 'Li6PS5Cl' });
    const added = await addMaterials(db, inputs, LIMITS);

    const expectIds = (predicate: (m: MaterialRecord) => boolean) =>
      added.filter(predicate).map((m) => m.id);
    const cases: [MaterialFilter, (m: MaterialRecord) => boolean][] = [
      [{}, () => true],
      [{ elementsHasAll: ['Li', 'S'] }, (m) => m.elements.includes('Li') && m.elements.includes('S')],
      [{ elementsHasOnly: ['Li', 'P', 'S', 'Cl'] }, (m) => m.elements.every((e) => ['Li', 'P', 'S', 'Cl'].includes(e))],
      [{ nelementsMin: 3, nelementsMax: 3 }, (m) => m.nelements === 3],
      [{ nelementsMin: 4 }, (m) => m.nelements >= 4],
      [{ elementsHasAll: ['Li'], nelementsMax: 2 }, (m) => m.elements.includes('Li') && m.nelements <= 2],
      [{ formula: 'Li2Cl2' }, (m) => m.reducedFormula === 'LiCl'],
      [{ formula: 'Li3PS4' }, (m) => m.reducedFormula === 'Li3PS4'],
      [{ elementsHasAll: ['Xe'] }, () => false],
    ];
    for (const [filter, predicate] of cases) {
      const expected = expectIds(predicate);
      for (const first of [1, 4, 50]) {
        const { items, totalCount, pages } = await allPages(db, filter, first);
        assert.deepEqual(items.map((m) => m.id), expected, `${JSON.stringify(filter)} first=${first}`);
        assert.equal(totalCount, expected.length);
        assert.equal(pages, Math.max(1, Math.ceil(expected.length / first)));
      }
    }

    const page = await listMaterials(db, { elementsHasAll: ['Li'] }, { first: 3 });
    assert.equal(page.cursors.length, 3);
    assert.equal(page.startCursor, page.cursors[0]);
    assert.equal(page.endCursor, page.cursors[2]);
    // A cursor taken from the middle of a page resumes right after that item.
    const resumed = await listMaterials(db, { elementsHasAll: ['Li'] }, { first: 2, after: page.cursors[1] });
    assert.equal(resumed.items[0]!.id, page.items[2]!.id);

    await assert.rejects(listMaterials(db, {}, { first: 5, after: 'not-a-cursor' }), /invalid cursor/);
    await assert.rejects(listMaterials(db, {}, { first: -1 }), /first must be/);
    await assert.rejects(listMaterials(db, { elementsHasAll: ['li'] }, { first: 1 }), /not an element symbol/);
    await assert.rejects(listMaterials(db, { formula: 'Qq' }, { first: 1 }), BadInputError);
  });

  test('batch readers return one value per key, in key order', async () => {
    const { db } = database();
    const added = await addMaterials(db, [json(4.01), json(4.02), { composition: 'LiF' }], LIMITS);
    const ids = [added[2]!.id, '999999', added[0]!.id, 'abc', added[2]!.id];
    const found = await materialsByIds(db, ids);
    assert.deepEqual(
      found.map((m) => m?.id ?? null),
      [added[2]!.id, null, added[0]!.id, null, added[2]!.id],
    );
    assert.deepEqual(await materialsByIds(db, []), []);
    await assert.rejects(getMaterial(db, '999999'), NotFoundError);
    await assert.rejects(getMaterial(db, 'x'), NotFoundError);
  });

  test('summary reads leave out only the structure, which structuresByMaterialIds loads', async () => {
    const { db } = database();
    // Every column but `structure`: a column added by a migration must be added to the summary too.
    const { rows } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns where table_schema = 'public' and table_name = 'material'`.execute(db);
    assert.deepEqual(
      [...MATERIAL_SUMMARY_COLUMNS].sort(),
      rows.map((r) => r.column_name).filter((c) => c !== 'structure').sort(),
    );

    const added = await addMaterials(db, [json(4.03), { composition: 'LiCl' }], LIMITS);
    const ids = [added[0]!.id, added[1]!.id, '999999'];
    const full = await materialsByIds(db, ids);
    const summaries = await materialsByIds(db, ids, { structure: false });
    assert.equal(summaries[2], null);
    for (const [i, summary] of summaries.slice(0, 2).entries()) {
      assert.ok(summary && !('structure' in summary), 'no structure key on a summary record');
      const { structure: _structure, ...rest } = full[i]!;
      assert.deepEqual(summary, rest);
    }
    const structures = await structuresByMaterialIds(db, ids);
    assert.deepEqual(structures, [full[0]!.structure, null, null]);
  });
});
