/**
 * OPTIMADE filter strings (`filter: { optimade }`): the parser's tree, its errors (position, the
 * unsupported property), and the rows it selects from `materials` on PGlite / PostgreSQL.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BadInputError } from '../../src/errors.js';
import { addMaterials, listMaterials } from '../../src/services/materials.js';
import { parseOptimadeFilter } from '../../src/services/optimade-filter.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { seedScreenedModel } from '../screening/fixtures.js';
import { dataOf, execute, onlyError, testServer } from '../graphql/harness.js';

test('the grammar: precedence NOT > AND > OR, parentheses, HAS forms, comparisons, formulas, properties', () => {
  assert.deepEqual(parseOptimadeFilter('elements HAS "S" AND NOT elements HAS ANY "Fe","Co"'), {
    op: 'and',
    args: [
      { op: 'elements', mode: 'all', elements: ['S'] },
      { op: 'not', arg: { op: 'elements', mode: 'any', elements: ['Fe', 'Co'] } },
    ],
  });
  assert.deepEqual(parseOptimadeFilter('nelements=2 OR nelements>=4 AND elements HAS ONLY "Li","O"'), {
    op: 'or',
    args: [
      { op: 'compare', column: 'nelements', cmp: '=', value: 2 },
      { op: 'and', args: [{ op: 'compare', column: 'nelements', cmp: '>=', value: 4 }, { op: 'elements', mode: 'only', elements: ['Li', 'O'] }] },
    ],
  });
  assert.deepEqual(parseOptimadeFilter('(nsites < 10 OR _mp_band_gap > 1.5e0) AND chemical_formula_reduced != "Li2O2"'), {
    op: 'and',
    args: [
      { op: 'or', args: [{ op: 'compare', column: 'nsites', cmp: '<', value: 10 }, { op: 'property', name: '_mp_band_gap', cmp: '>', value: 1.5 }] },
      { op: 'not', arg: { op: 'formula', column: 'reduced_formula', formula: 'LiO2' } }, // as pymatgen names Li2O2
    ],
  });
  assert.deepEqual(parseOptimadeFilter('elements HAS ALL "Li","S"'), { op: 'elements', mode: 'all', elements: ['Li', 'S'] });
});

test('errors name the position, the unsupported property, or the bad element', () => {
  const refused = (filter: string, message: string) =>
    assert.throws(() => parseOptimadeFilter(filter, 'filter.optimade'), (error: unknown) => error instanceof BadInputError && error.message === message);
  refused('elements HAS "S" AND', 'filter.optimade: syntax error at position 21: expected a property (elements, nelements, nsites, chemical_formula_reduced, chemical_formula_descriptive and numeric properties such as _mp_band_gap), found the end of the filter');
  refused('elements HAS S', 'filter.optimade: syntax error at position 14: expected a "quoted" value, found "S"');
  refused('(nelements > 2', 'filter.optimade: syntax error at position 15: expected ) to close the ( at position 1, found the end of the filter');
  refused('nelements > 2 nsites < 4', 'filter.optimade: syntax error at position 15: expected AND, OR or the end of the filter, found "nsites"');
  refused('elements HAS "S', 'filter.optimade: syntax error at position 14: this string is not closed (a " is missing)');
  refused('nelements ~ 2', 'filter.optimade: syntax error at position 11: unexpected character "~"');
  refused('nelements > "two"', 'filter.optimade: syntax error at position 13: expected a number after nelements >, found the string "two"');
  refused('lattice_vectors HAS "x"', 'filter.optimade: property "lattice_vectors" at position 1 is not supported (supported: elements, nelements, nsites, chemical_formula_reduced, chemical_formula_descriptive and numeric properties such as _mp_band_gap)');
  refused('elements HAS "Xx"', 'filter.optimade: "Xx" at position 14 is not an element symbol');
  refused('chemical_formula_reduced > "LiO"', 'filter.optimade: syntax error at position 26: chemical_formula_reduced can be compared with = or != only, found ">"');
  assert.throws(() => parseOptimadeFilter('NOT '.repeat(60) + 'nelements > 1'), /nested deeper than 50 levels/);
});

describeDatabases('materials filtered by an OPTIMADE filter string', (database) => {
  const ids = new Map<string, string>();
  before(async () => {
    const { db } = database();
    const formulas = ['LiCl', 'Li2S', 'Li3PS4', 'LiFePO4', 'LiCoO2', 'Li2O2', 'Li6PS5Cl', 'NaCl'];
    const stored = await addMaterials(db, formulas.map((composition) => ({ composition })), { maxSites: 2000, maxTextBytes: 1e6, maxBatchSize: 100 });
    stored.forEach((m, i) => ids.set(formulas[i]!, m.id));
  });
  const formulasOf = async (optimade: string, extra: Record<string, unknown> = {}) => {
    const page = await listMaterials(database().db, { optimade, ...extra }, { first: 100 });
    assert.equal(page.totalCount, page.items.length);
    return page.items.map((m) => [...ids.entries()].find(([, id]) => id === m.id)![0]).sort();
  };

  test('the issue\'s example and the other forms select the right rows', async () => {
    assert.deepEqual(await formulasOf('elements HAS "S" AND NOT elements HAS ANY "Fe","Co"'), ['Li2S', 'Li3PS4', 'Li6PS5Cl']);
    assert.deepEqual(await formulasOf('elements HAS ANY "Fe","Co"'), ['LiCoO2', 'LiFePO4']);
    assert.deepEqual(await formulasOf('elements HAS ONLY "Li","S","P","Cl"'), ['Li2S', 'Li3PS4', 'Li6PS5Cl', 'LiCl']);
    assert.deepEqual(await formulasOf('nelements >= 3 AND NOT (elements HAS "Fe" OR elements HAS "Cl")'), ['Li3PS4', 'LiCoO2']);
    assert.deepEqual(await formulasOf('chemical_formula_reduced = "LiO" OR chemical_formula_descriptive = "NaCl"'), ['Li2O2', 'NaCl']);
    // nsites is null for compositions: a comparison is false, its negation true.
    assert.deepEqual(await formulasOf('nsites > 0'), []);
    assert.equal((await formulasOf('NOT nsites > 0')).length, 8);
    // AND with the other filter fields.
    assert.deepEqual(await formulasOf('elements HAS "Li"', { elementsHasAll: ['Cl'] }), ['Li6PS5Cl', 'LiCl']);
  });

  test('a bad filter is BAD_USER_INPUT naming the field', async () => {
    await assert.rejects(listMaterials(database().db, { optimade: 'elements HAS' }, { first: 10 }), (error: unknown) =>
      error instanceof BadInputError && error.message.startsWith('optimade: syntax error at position 13'));
  });

  test('screen ranks with it (the same candidates as the element lists); GraphQL refuses a bad one naming filter.optimade', async () => {
    const { db } = database();
    await resetDatabase(db);
    ids.clear();
    // Compositions Li(i+1)S and Li(i+1)O.
    await seedScreenedModel(db, { dim: 4, count: 24, labelled: 8, seed: 21 });
    const server = await testServer();
    const SCREEN = 'query($filter: MaterialFilter) { screen(first: 200, filter: $filter) { totalCount edges { rank node { id } } } }';
    const ranking = async (filter: unknown) => dataOf(await execute(server, SCREEN, { filter }, { db })).screen;
    const sulfides = await ranking({ optimade: 'elements HAS "S"' });
    assert.ok(sulfides.totalCount > 0);
    assert.deepEqual(sulfides, await ranking({ elementsHasAll: ['S'] }));
    assert.deepEqual(await ranking({ optimade: 'NOT elements HAS ANY "S"' }), await ranking({ elementsHasNone: ['S'] }));
    const both = await ranking({ optimade: 'elements HAS "S" OR elements HAS "O"' });
    assert.equal(both.totalCount, (await ranking(null)).totalCount);

    const error = onlyError(await execute(server, SCREEN, { filter: { optimade: 'elements HAS "S" AND OR' } }, { db }));
    assert.equal(error.extensions?.code, 'BAD_USER_INPUT');
    assert.match(error.message, /^filter\.optimade: syntax error at position 22: expected a property/);
  });
});
