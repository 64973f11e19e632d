/**
 * Candidate pools through GraphQL (issue 16): numeric properties (curator mutation, `property`,
 * `properties`, range filters in `materials`, `screen` and `similarMaterials`), the space group,
 * and bad inputs (BAD_USER_INPUT naming the field, nothing written).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { beforeEach, test } from 'node:test';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { assertSameRanking, readWholeRanking, recomputeRanking, seedScreenedModel } from '../screening/fixtures.js';
import { refreshDerivedFacts } from '../../src/services/derived.js';
import { dataOf, execute, fixture, onlyError, testServer } from './harness.js';

const SET = /* GraphQL */ `
  mutation Set($id: ID!, $properties: [PropertyInput!]!) {
    setMaterialProperties(materialId: $id, properties: $properties) {
      id
      gap: property(name: "band_gap_ev")
      properties { name value unit source setBy setAt }
    }
  }
`;

const IDS = /* GraphQL */ `
  query Ids($filter: MaterialFilter) {
    materials(filter: $filter, first: 200) { totalCount nodes { id } }
  }
`;

const SCREEN = /* GraphQL */ `
  query Screen($filter: MaterialFilter) {
    screen(filter: $filter, first: 200) { totalCount edges { rank score node { id gap: property(name: "band_gap_ev") } } }
  }
`;

const SIMILAR = /* GraphQL */ `
  query Similar($input: SimilarMaterialsInput!) {
    similarMaterials(input: $input) { rank distance material { id gap: property(name: "band_gap_ev") } }
  }
`;

describeDatabases('GraphQL candidate pools', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('properties: set, read one and all, remove; range filters in materials, screen and similarMaterials', async () => {
    const server = await testServer();
    const { db } = database();
    const { materialIds } = await seedScreenedModel(db, { dim: 4, count: 24, labelled: 8, seed: 3 });
    // Band gaps 0, 0.5, 1.0, … on every other material from the 8th on (candidates and references alike).
    const gaps = new Map<string, number>();
    for (const [i, id] of materialIds.entries()) {
      if (i % 2 === 1) continue;
      gaps.set(id, i * 0.25);
    }
    for (const [id, gap] of gaps) {
      const set = dataOf(await execute(server, SET, { id, properties: [{ name: 'band_gap_ev', value: gap, source: 'test' }] }, { db }))
        .setMaterialProperties;
      assert.equal(set.gap, gap);
      assert.equal(set.properties.length, 1);
      assert.deepEqual({ ...set.properties[0], setAt: undefined }, { name: 'band_gap_ev', value: gap, unit: 'eV', source: 'test', setBy: 'test', setAt: undefined });
    }

    const ids = async (filter: unknown) => dataOf(await execute(server, IDS, { filter }, { db })).materials.nodes.map((n: { id: string }) => n.id).sort();
    const expected = (lo: number | null, hi: number | null) =>
      [...gaps].filter(([, g]) => (lo === null || g >= lo) && (hi === null || g <= hi)).map(([id]) => id).sort();
    assert.deepEqual(await ids({ properties: [{ name: 'band_gap_ev', min: 1 }] }), expected(1, null));
    assert.deepEqual(await ids({ properties: [{ name: 'band_gap_ev', min: 1, max: 3 }] }), expected(1, 3));
    assert.deepEqual(await ids({ properties: [{ name: 'band_gap_ev', max: 2 }] }), expected(null, 2));
    // Neither bound: the materials that have the property. Without it, a material matches no range.
    assert.deepEqual(await ids({ properties: [{ name: 'band_gap_ev' }] }), expected(null, null));
    assert.deepEqual(await ids({ properties: [{ name: 'energy_above_hull_ev_per_atom', max: 1e9 }] }), []);

    // screen: the filtered ranking is the unfiltered one restricted to the matching candidates.
    const all = dataOf(await execute(server, SCREEN, {}, { db })).screen.edges;
    const filtered = dataOf(await execute(server, SCREEN, { filter: { properties: [{ name: 'band_gap_ev', min: 2 }] } }, { db })).screen;
    const want = all.filter((e: any) => e.node.gap !== null && e.node.gap >= 2);
    assert.ok(want.length > 0 && want.length < all.length);
    assert.equal(filtered.totalCount, want.length);
    assert.deepEqual(filtered.edges.map((e: any) => e.node.id), want.map((e: any) => e.node.id));

    // similarMaterials: the unfiltered neighbours (k large enough for all) restricted to the filter.
    const query = materialIds[1]!;
    const neighbours = dataOf(await execute(server, SIMILAR, { input: { materialId: query, k: 100 } }, { db })).similarMaterials;
    const near = dataOf(await execute(server, SIMILAR, { input: { materialId: query, k: 100, filter: { properties: [{ name: 'band_gap_ev', max: 3 }] } } }, { db }))
      .similarMaterials;
    const wantNear = neighbours.filter((n: any) => n.material.gap !== null && n.material.gap <= 3);
    assert.ok(wantNear.length > 0 && wantNear.length < neighbours.length);
    assert.deepEqual(near.map((n: any) => n.material.id), wantNear.map((n: any) => n.material.id));
    const fast = dataOf(await execute(server, SIMILAR, { input: { materialId: query, k: 100, label: 'FAST', filter: { properties: [{ name: 'band_gap_ev' }] } } }, { db }))
      .similarMaterials;
    assert.ok(fast.length > 0 && fast.every((n: any) => n.material.gap !== null));

    // value null removes a property.
    const [someId] = gaps.keys();
    const removed = dataOf(await execute(server, SET, { id: someId, properties: [{ name: 'band_gap_ev', value: null }] }, { db })).setMaterialProperties;
    assert.equal(removed.gap, null);
    assert.deepEqual(removed.properties, []);
  });

  test('bad property input is BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const server = await testServer();
    const { db } = database();
    const { materialIds } = await seedScreenedModel(db, { dim: 4, count: 4, labelled: 2, seed: 5 });
    const id = materialIds[0]!;
    const before = await db.selectFrom('material').select(['id', 'properties']).orderBy('id').execute();
    const cases: { properties: unknown[]; message: RegExp }[] = [
      { properties: [{ name: 'Band Gap', value: 1 }], message: /properties\[0\]\.name: "Band Gap" is not a property name/ },
      { properties: [{ name: 'band_gap_ev', value: 1, unit: 'meV' }], message: /properties\[0\]\.unit: band_gap_ev is in eV, not meV/ },
      { properties: [{ name: 'x', value: 1 }, { name: 'x', value: 2 }], message: /x is given twice/ },
      { properties: [], message: /give at least one property/ },
    ];
    for (const c of cases) {
      const error = onlyError(await execute(server, SET, { id, properties: c.properties }, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', error.message);
      assert.match(error.message, c.message);
    }
    const missing = onlyError(await execute(server, SET, { id: '999999', properties: [{ name: 'x', value: 1 }] }, { db }));
    assert.equal(missing.extensions?.code, 'NOT_FOUND');
    assert.deepEqual(await db.selectFrom('material').select(['id', 'properties']).orderBy('id').execute(), before);

    const filters: { filter: unknown; message: RegExp }[] = [
      { filter: { properties: [{ name: 'band_gap_ev', min: 3, max: 1 }] }, message: /properties\[0\]: min 3 is greater than max 1/ },
      { filter: { properties: [{ name: 'BAND', min: 1 }] }, message: /properties\[0\]\.name/ },
      { filter: { spaceGroupNumber: 231 }, message: /spaceGroupNumber must be a space-group number in 1\.\.230/ },
    ];
    for (const f of filters) {
      const error = onlyError(await execute(server, IDS, { filter: f.filter }, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', error.message);
      assert.match(error.message, f.message);
    }
  });

  test('the space group of an added structure is a field and a filter', async () => {
    const server = await testServer();
    const { db } = database();
    const added = dataOf(
      await execute(
        server,
        'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id spaceGroupNumber spaceGroupSymbol } }',
        { inputs: [{ structure: { format: 'CIF', text: fixture('licl-rocksalt-p1.cif') } }, { composition: 'Li3PS4' }] },
        { db },
      ),
    ).addMaterials;
    // Rock salt written in P1 is still Fm-3m (225); a composition has none.
    assert.deepEqual(
      added.map((m: any) => [m.spaceGroupNumber, m.spaceGroupSymbol]),
      [
        [225, 'Fm-3m'],
        [null, null],
      ],
    );
    const ids = async (filter: unknown) => dataOf(await execute(server, IDS, { filter }, { db })).materials.nodes.map((n: { id: string }) => n.id);
    assert.deepEqual(await ids({ spaceGroupNumber: 225 }), [added[0].id]);
    assert.deepEqual(await ids({ spaceGroupNumber: 62 }), []);
  });

  test('chemical plausibility: fields (why it balances) and filters in materials and screen', async () => {
    const server = await testServer();
    const { db } = database();
    const formulas = ['Li3Al', 'LiAl3', 'LiGa3', 'LiC6', 'Li2S', 'LiFePO4', 'Li7La3Zr2O12', 'Li6.4La3Zr1.4Ta0.6O12'];
    const added = dataOf(
      await execute(
        server,
        `mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) {
          id reducedFormula chargeBalanced hasAnion hasReducibleTransitionMetal oxidationStates { element state fraction } } }`,
        { inputs: formulas.map((composition) => ({ composition })) },
        { db },
      ),
    ).addMaterials;
    const by = new Map<string, any>(added.map((m: any, i: number) => [formulas[i]!, m]));
    for (const f of ['Li3Al', 'LiAl3', 'LiGa3']) {
      assert.equal(by.get(f).chargeBalanced, false, f);
      assert.equal(by.get(f).oxidationStates, null, f);
    }
    assert.deepEqual(by.get('LiC6').oxidationStates, [
      { element: 'C', state: -1 / 6, fraction: '-1/6' },
      { element: 'Li', state: 1, fraction: '1' },
    ]);
    assert.deepEqual(
      [by.get('LiFePO4').chargeBalanced, by.get('LiFePO4').hasAnion, by.get('LiFePO4').hasReducibleTransitionMetal],
      [true, true, true],
    );
    assert.deepEqual(
      by.get('Li6.4La3Zr1.4Ta0.6O12').oxidationStates.map((s: any) => `${s.element}${s.fraction}`),
      ['La3', 'Li1', 'O-2', 'Ta5', 'Zr4'],
    );

    const formulasOf = async (filter: unknown) =>
      dataOf(await execute(server, 'query($filter: MaterialFilter) { materials(filter: $filter, first: 100) { nodes { reducedFormula } } }', { filter }, { db }))
        .materials.nodes.map((n: any) => n.reducedFormula)
        .sort();
    assert.deepEqual(await formulasOf({ chargeBalanced: true }), ['Li2S', 'Li6.4La3Zr1.4Ta0.6O12', 'Li7La3Zr2O12', 'LiC6', 'LiFePO4'].sort());
    assert.deepEqual(await formulasOf({ chargeBalanced: false }), ['Li3Al', 'LiAl3', 'LiGa3'].sort());
    assert.deepEqual(await formulasOf({ chargeBalanced: true, hasAnion: true, hasReducibleTransitionMetal: false }), ['Li2S', 'Li6.4La3Zr1.4Ta0.6O12', 'Li7La3Zr2O12'].sort());

    // screen: candidates written before plausibility existed are assessed by refreshDerivedFacts, then filtered.
    await resetDatabase(db);
    const { materialIds } = await seedScreenedModel(db, { dim: 4, count: 24, labelled: 8, seed: 9 });
    // Its compositions are Li(i+1)S and Li(i+1)O; two candidates become Li2S, which balances.
    await db.updateTable('material').set({ formula: 'Li2S', reduced_formula: 'Li2S' }).where('id', 'in', [materialIds[9]!, materialIds[15]!]).execute();
    assert.equal(await refreshDerivedFacts(db), 24);
    const all = dataOf(await execute(server, 'query { screen(first: 200) { edges { node { id reducedFormula chargeBalanced } } } }', {}, { db })).screen.edges;
    const balanced = dataOf(await execute(server, 'query { screen(first: 200, filter: { chargeBalanced: true }) { totalCount edges { node { id } } } }', {}, { db })).screen;
    const want = all.filter((e: any) => e.node.chargeBalanced === true).map((e: any) => e.node.id);
    assert.ok(want.length > 0 && want.length < all.length, 'two candidates balance (Li2S), the others do not (Li9O, Li10S, …)');
    assert.deepEqual(balanced.edges.map((e: any) => e.node.id), want);
    assert.equal(balanced.totalCount, want.length);
  });

  test('element filters: any of, none of; an unknown symbol in any element list is refused naming it', async () => {
    const server = await testServer();
    const { db } = database();
    const formulas = ['Li3PS4', 'Li2S', 'LiCoO2', 'LiFePO4', 'Li7La3Zr2O12', 'LiCl'];
    dataOf(await execute(server, 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id } }', { inputs: formulas.map((composition) => ({ composition })) }, { db }));
    const formulasOf = async (filter: unknown) =>
      dataOf(await execute(server, 'query($filter: MaterialFilter) { materials(filter: $filter, first: 100) { nodes { reducedFormula } } }', { filter }, { db }))
        .materials.nodes.map((n: any) => n.reducedFormula)
        .sort();
    assert.deepEqual(await formulasOf({ elementsHasAny: ['S', 'Cl'] }), ['Li2S', 'Li3PS4', 'LiCl']);
    assert.deepEqual(await formulasOf({ elementsHasNone: ['Fe', 'Co'] }), ['Li2S', 'Li3PS4', 'Li7La3Zr2O12', 'LiCl']);
    assert.deepEqual(await formulasOf({ elementsHasAll: ['O'], elementsHasNone: ['Fe', 'Co'] }), ['Li7La3Zr2O12']);
    assert.deepEqual(await formulasOf({ elementsHasAny: ['P'], elementsHasNone: ['S'] }), ['LiFePO4']);
    assert.deepEqual(await formulasOf({ elementsHasAny: [] }), [], 'any of nothing matches nothing');
    assert.equal((await formulasOf({ elementsHasNone: [] })).length, formulas.length, 'none of nothing excludes nothing');

    const refused = async (query: string, variables: Record<string, unknown>, field: string, symbol: string) => {
      const error = onlyError(await execute(server, query, variables, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', error.message);
      assert.match(error.message, new RegExp(`${field.replace('.', '\\.')}: "${symbol}" is not an element symbol`));
    };
    for (const field of ['elementsHasAll', 'elementsHasOnly', 'elementsHasAny', 'elementsHasNone']) {
      await refused('query($filter: MaterialFilter) { materials(filter: $filter) { totalCount } }', { filter: { [field]: ['Li', 'Xx'] } }, field, 'Xx');
    }
    await refused('query($filter: MaterialFilter) { screen(filter: $filter) { totalCount } }', { filter: { elementsHasNone: ['Cx'] } }, 'filter.elementsHasNone', 'Cx');
    await refused('query($filter: MaterialFilter) { materials(filter: $filter) { totalCount } }', { filter: { elementsHasAll: ['li'] } }, 'elementsHasAll', 'li');
  });

  test('clean input: unknown type symbols, absurd densities and multi-block CIFs are refused, naming the problem; nothing is written', async () => {
    const server = await testServer();
    const { db } = database();
    const licl = fixture('licl-rocksalt-p1.cif');
    const ADD = 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id reducedFormula density duplicateOf name aliases { name source } } }';
    const refused = async (inputs: unknown[], message: RegExp) => {
      const before = await db.selectFrom('material').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const error = onlyError(await execute(server, ADD, { inputs }, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', error.message);
      assert.match(error.message, message);
      const after = await db.selectFrom('material').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n), 'nothing written');
    };
    const good = { composition: 'Li3PS4' };
    // "Cx" (a typo for Cl) was stored as carbon.
    const typo = licl.replace('Cl1 Cl ', 'Cl1 Cx ');
    await refused([good, { structure: { format: 'CIF', text: typo } }], /inputs\[1\]: .*unknown element "Cx" in _atom_site_type_symbol/);
    // Oxidation states and digit-led suffixes are recognised.
    const charged = licl.replace(/ Li (\S)/g, ' Li1+ $1').replace(/ Cl (\S)/g, ' Cl1- $1');
    assert.notEqual(charged, licl);
    const [ionic] = dataOf(await execute(server, ADD, { inputs: [{ structure: { format: 'CIF', text: charged } }] }, { db })).addMaterials;
    assert.equal(ionic.reducedFormula, 'LiCl');

    // LiCl in a 1000 Å cell (the conventional cell: 4 formula units), 2.8e-7 g/cm³.
    const sparse = licl.replace(/5\.1295/g, '1000');
    await refused([{ structure: { format: 'CIF', text: sparse } }], /inputs\[0\]: density 2\.82e-7 g\/cm³ is outside \[0\.1, 25\] g\/cm³.*allowUnusualDensity: true/);
    const [allowed] = dataOf(await execute(server, ADD, { inputs: [{ structure: { format: 'CIF', text: sparse }, allowUnusualDensity: true }] }, { db })).addMaterials;
    assert.ok(allowed.density < 1e-6);

    // Two structures in one CIF: refused, naming both blocks (never read as the first alone).
    const twoBlocks = `${licl}\n${licl.replace('data_LiCl', 'data_LiCl_b').replace(/5\.1295/g, '5.2')}`;
    await refused([{ structure: { format: 'CIF', text: twoBlocks } }], /2 data blocks hold structures \("data_LiCl", "data_LiCl_b"\): give one block per input/);
  });

  test('a duplicate upload says so and keeps the caller\'s name and source as an alias', async () => {
    const server = await testServer();
    const { db } = database();
    const licl = fixture('licl-rocksalt-p1.cif');
    const ADD = 'mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) { id name source duplicateOf aliases { name source createdBy } } }';
    const [first] = dataOf(await execute(server, ADD, { inputs: [{ structure: { format: 'CIF', text: licl }, name: 'rock salt', source: 'lab A' }] }, { db })).addMaterials;
    assert.equal(first.duplicateOf, null);
    assert.deepEqual(first.aliases, []);
    const again = dataOf(
      await execute(
        server,
        ADD,
        {
          inputs: [
            { structure: { format: 'CIF', text: licl }, name: 'LiCl from B', source: 'lab B' },
            { structure: { format: 'CIF', text: licl }, name: 'rock salt', source: 'lab A' },
            { structure: { format: 'CIF', text: licl }, name: 'LiCl from B', source: 'lab B' },
          ],
        },
        { db },
      ),
    ).addMaterials;
    for (const m of again) {
      assert.equal(m.id, first.id);
      assert.equal(m.duplicateOf, first.id);
      assert.equal(m.name, 'rock salt', 'the stored name stays');
    }
    // One alias for lab B (given twice), none for a re-upload under the stored name and source.
    assert.deepEqual(again[2].aliases, [{ name: 'LiCl from B', source: 'lab B', createdBy: 'test' }]);
    const read = dataOf(await execute(server, `query { material(id: "${first.id}") { duplicateOf aliases { name source } } }`, {}, { db })).material;
    assert.deepEqual(read, { duplicateOf: null, aliases: [{ name: 'LiCl from B', source: 'lab B' }] });
  });

  test('a label class that contradicts the conductivity needs a reason; messages name the API fields', async () => {
    const server = await testServer();
    const { db } = database();
    const [m] = dataOf(await execute(server, 'mutation { addMaterials(inputs: [{ composition: "LiCl" }]) { id } }', {}, { db })).addMaterials;
    const LABEL = 'mutation($input: LabelMaterialInput!) { labelMaterial(input: $input) { id class conductivity reason } }';
    const error = onlyError(await execute(server, LABEL, { input: { materialId: m.id, class: 'FAST', conductivity: 1e-9 } }, { db }));
    assert.equal(error.extensions?.code, 'BAD_USER_INPUT');
    assert.match(error.message, /class FAST contradicts conductivity 1e-9 S\/cm/);
    const negative = onlyError(await execute(server, LABEL, { input: { materialId: m.id, class: 'POOR', conductivity: -1 } }, { db }));
    assert.match(negative.message, /^conductivity must be/);
    assert.doesNotMatch(negative.message, /SPerCm/);
    assert.equal((await db.selectFrom('label').selectAll().execute()).length, 0, 'nothing written');
    const label = dataOf(await execute(server, LABEL, { input: { materialId: m.id, class: 'FAST', conductivity: 1e-9, reason: 'bulk is fast; grain boundaries block' } }, { db })).labelMaterial;
    assert.equal(label.class, 'FAST');
  });

  test('retire (hidden from rankings, kept with labels, who/when/why, reversible) and delete (admin, never labelled; rankings stay exact)', async () => {
    const server = await testServer();
    const { db } = database();
    const { modelId, materialIds } = await seedScreenedModel(db, { dim: 4, count: 16, labelled: 6, seed: 13 });
    const whole = await readWholeRanking(db, { modelId }, 5);
    const [top, second] = whole.map((r) => r.materialId) as [string, string];
    const labelled = materialIds[0]!;
    const RETIRE = 'mutation($id: ID!, $reason: String!) { retireMaterial(id: $id, reason: $reason) { id retiredAt retiredBy retiredReason } }';

    const retired = dataOf(await execute(server, RETIRE, { id: top, reason: 'junk: typo in a type symbol' }, { db })).retireMaterial;
    assert.equal(retired.retiredBy, 'test');
    assert.equal(retired.retiredReason, 'junk: typo in a type symbol');
    assert.ok(!Number.isNaN(Date.parse(retired.retiredAt)));
    const without = await readWholeRanking(db, { modelId }, 5);
    assert.deepEqual(without.map((r) => r.materialId), whole.slice(1).map((r) => r.materialId), 'the others keep their order');
    const page = dataOf(await execute(server, 'query { screen(first: 3) { totalCount edges { rank node { id } } } }', {}, { db })).screen;
    assert.equal(page.totalCount, whole.length - 1);
    assert.equal(page.edges[0].node.id, second);
    // Still stored and findable; a labelled material keeps its labels when retired.
    const found = dataOf(await execute(server, 'query { materials(filter: { retired: true }) { nodes { id } } }', {}, { db })).materials.nodes;
    assert.deepEqual(found, [{ id: top }]);
    dataOf(await execute(server, RETIRE, { id: labelled, reason: 'duplicate of another entry' }, { db }));
    const kept = dataOf(await execute(server, `query { material(id: "${labelled}") { label { class } retiredReason } }`, {}, { db })).material;
    assert.deepEqual(kept, { label: { class: 'FAST' }, retiredReason: 'duplicate of another entry' });

    const again = onlyError(await execute(server, RETIRE, { id: top, reason: 'twice' }, { db }));
    assert.equal(again.extensions?.code, 'CONFLICT');
    const noReason = onlyError(await execute(server, RETIRE, { id: second, reason: '  ' }, { db }));
    assert.equal(noReason.extensions?.code, 'BAD_USER_INPUT');
    assert.match(noReason.message, /reason/);

    // Restored: back at its place; retirement cleared.
    const restored = dataOf(await execute(server, `mutation { restoreMaterial(id: "${top}") { retiredAt retiredBy retiredReason } }`, {}, { db })).restoreMaterial;
    assert.deepEqual(restored, { retiredAt: null, retiredBy: null, retiredReason: null });
    dataOf(await execute(server, `mutation { restoreMaterial(id: "${labelled}") { id } }`, {}, { db }));
    assert.deepEqual((await readWholeRanking(db, { modelId }, 5)).map((r) => r.materialId), whole.map((r) => r.materialId));

    // Delete: a labelled material is refused (retire it instead); an unlabelled candidate goes, and the ranking stays exact.
    const refused = onlyError(await execute(server, `mutation { deleteMaterial(id: "${labelled}") }`, {}, { db }));
    assert.equal(refused.extensions?.code, 'BAD_USER_INPUT');
    assert.match(refused.message, /has 1 label row\(s\) and cannot be deleted; retire it instead/);
    assert.equal(dataOf(await execute(server, `mutation { deleteMaterial(id: "${top}") }`, {}, { db })).deleteMaterial, top);
    assert.equal(dataOf(await execute(server, `query { material(id: "${top}") { id } }`, {}, { db })).material, null);
    const after = await readWholeRanking(db, { modelId }, 5);
    assert.deepEqual(after.map((r) => r.materialId), whole.slice(1).map((r) => r.materialId));
    assertSameRanking(after, await recomputeRanking(db, modelId), 'after the delete');
  });

  test('addMaterials with format JSON takes an OPTIMADE list response: one material per entry, with provenance and _provider_ properties', async () => {
    const server = await testServer();
    const { db } = database();
    const entry = JSON.parse(readFileSync(new URL('../fixtures/structures/licl.optimade.json', import.meta.url), 'utf8'));
    const scaled = (id: string, a: number, extra: Record<string, unknown>) => ({
      id,
      type: 'structures',
      attributes: {
        ...entry.attributes,
        lattice_vectors: [[a, 0, 0], [0, a, 0], [0, 0, a]],
        cartesian_site_positions: entry.attributes.cartesian_site_positions.map((p: number[]) => p.map((x) => (x * a) / 5.13)),
        chemical_formula_reduced: 'ClLi',
        ...extra,
      },
    });
    const response = {
      data: [scaled('mp-22905', 5.13, { _mp_band_gap: 6.3, _mp_energy_above_hull: 0, _mp_note: 'text is not a property' }), scaled('mp-1185319', 5.4, { _mp_band_gap: 5.9 })],
      meta: { api_version: '1.1.0', provider: { prefix: 'mp', name: 'Materials Project' } },
      links: { next: null },
    };
    const ADD = `mutation($inputs: [AddMaterialInput!]!) { addMaterials(inputs: $inputs) {
      id name source sourceId sourceUrl duplicateOf gap: property(name: "_mp_band_gap") properties { name value source } } }`;
    const added = dataOf(await execute(server, ADD, { inputs: [{ structure: { format: 'JSON', text: JSON.stringify(response) } }, { composition: 'Li2O' }] }, { db })).addMaterials;
    assert.equal(added.length, 3, 'two entries and the composition, in order');
    assert.deepEqual(
      added.slice(0, 2).map((m: any) => [m.name, m.source, m.sourceId, m.sourceUrl, m.gap, m.duplicateOf]),
      [
        ['ClLi', 'optimade:mp', 'mp-22905', 'https://next-gen.materialsproject.org/materials/mp-22905', 6.3, null],
        ['ClLi', 'optimade:mp', 'mp-1185319', 'https://next-gen.materialsproject.org/materials/mp-1185319', 5.9, null],
      ],
    );
    assert.deepEqual(added[0].properties.map((p: any) => [p.name, p.value]), [['_mp_band_gap', 6.3], ['_mp_energy_above_hull', 0]]);
    assert.match(added[0].properties[0].source, /OPTIMADE mp entry mp-22905/);
    // Filterable like any property; the same response again finds the stored entries.
    const ids = dataOf(await execute(server, 'query { materials(filter: { properties: [{ name: "_mp_band_gap", min: 6 }] }) { nodes { sourceId } } }', {}, { db })).materials.nodes;
    assert.deepEqual(ids, [{ sourceId: 'mp-22905' }]);
    const again = dataOf(await execute(server, ADD, { inputs: [{ structure: { format: 'JSON', text: JSON.stringify(response) } }] }, { db })).addMaterials;
    assert.deepEqual(again.map((m: any) => m.duplicateOf), [added[0].id, added[1].id]);

    // A bad entry refuses the whole call, naming it; nothing is written.
    const before = (await db.selectFrom('material').select('id').execute()).length;
    const bad = { ...response, data: [response.data[0], { id: 'x', type: 'structures', attributes: { ...response.data[1]!.attributes, species_at_sites: ['Cl'] } }] };
    const error = onlyError(await execute(server, ADD, { inputs: [{ structure: { format: 'JSON', text: JSON.stringify(bad) } }] }, { db }));
    assert.equal(error.extensions?.code, 'BAD_USER_INPUT');
    assert.match(error.message, /^inputs\[0\]: data\[1\]: .*cartesian_site_positions has 8 entries but species_at_sites has 1/);
    const empty = onlyError(await execute(server, ADD, { inputs: [{ structure: { format: 'JSON', text: '{"data": []}' } }] }, { db }));
    assert.match(empty.message, /no entries/);
    assert.equal((await db.selectFrom('material').select('id').execute()).length, before);
  });
});
