/**
 * Materials through GraphQL: adding a CIF and reading every field back, composition-only materials,
 * filters and cursor pagination, and bad inputs (BAD_USER_INPUT with a helpful message, nothing written).
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { dataOf, execute, fixture, materialCount, onlyError, testServer } from './harness.js';

const ADD = /* GraphQL */ `
  mutation Add($inputs: [AddMaterialInput!]!) {
    addMaterials(inputs: $inputs) {
      id
      name
      source
      kind
      formula
      reducedFormula
      elements
      nelements
      nsites
      natoms
      isOrdered
      volume
      density
      structureHash
      createdAt
      lattice { vectors a b c alpha beta gamma }
      sites { species { element occupancy } frac cart label }
      label { id }
      labels { id }
      cif
      json
    }
  }
`;

const MATERIAL = /* GraphQL */ `
  query One($id: ID!) {
    material(id: $id) {
      id name kind formula reducedFormula elements nelements nsites natoms isOrdered volume density
      lattice { vectors a b c alpha beta gamma }
      sites { species { element occupancy } frac cart label }
      label { id } labels { id } cif json
    }
  }
`;

const PAGE = /* GraphQL */ `
  query Page($filter: MaterialFilter, $first: Int!, $after: String) {
    materials(filter: $filter, first: $first, after: $after) {
      totalCount
      edges { cursor node { id reducedFormula } }
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

/** Å → Å, tolerance for float fields computed from parsed text. */
const CLOSE = 1e-9;

function assertClose(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

describeDatabases('GraphQL materials', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('a CIF material reads back with lattice, sites (frac and cart), volume, density, CIF and OPTIMADE JSON', async () => {
    const server = await testServer();
    const { db } = database();
    const added = dataOf(
      await execute(server, ADD, {
        inputs: [{ structure: { format: 'CIF', text: fixture('licl-rocksalt-p1.cif') }, name: 'rock-salt LiCl', source: 'test' }],
      }, { db }),
    ).addMaterials;
    assert.equal(added.length, 1);
    const [material] = added;
    assert.equal(material.kind, 'STRUCTURE');
    assert.equal(material.name, 'rock-salt LiCl');
    assert.equal(material.source, 'test');
    assert.equal(material.reducedFormula, 'LiCl');
    assert.deepEqual(material.elements, ['Cl', 'Li']);
    assert.equal(material.nelements, 2);
    assert.equal(material.nsites, 8);
    assert.equal(material.natoms, 8);
    assert.equal(material.isOrdered, true);
    assert.equal(material.label, null);
    assert.deepEqual(material.labels, []);
    assert.ok(!Number.isNaN(Date.parse(material.createdAt)));

    const a = 5.1295;
    assertClose(material.volume, a ** 3, 1e-6, 'volume (Å³)');
    // 4 LiCl per cell: 4 × (6.94 + 35.45) g/mol / (N_A × V Å³ × 1e-24 cm³/Å³).
    assertClose(material.density, (4 * (6.94 + 35.45)) / (6.02214076e23 * a ** 3 * 1e-24), 5e-3, 'density (g/cm³)');
    assert.deepEqual(material.lattice.vectors.length, 3);
    for (const [i, row] of material.lattice.vectors.entries()) {
      assertClose(Math.hypot(...row), a, CLOSE, `|lattice row ${i}|`);
    }
    for (const key of ['a', 'b', 'c'] as const) assertClose(material.lattice[key], a, CLOSE, key);
    for (const key of ['alpha', 'beta', 'gamma'] as const) assertClose(material.lattice[key], 90, 1e-9, key);

    assert.equal(material.sites.length, 8);
    const cl1 = material.sites.find((site: any) => site.label === 'Cl1');
    assert.deepEqual(cl1.species, [{ element: 'Cl', occupancy: 1 }]);
    assert.deepEqual(cl1.frac, [0.5, 0.5, 0.5]);
    for (const site of material.sites) {
      // cart = frac · lattice vectors (rows), in Å.
      const expected = [0, 1, 2].map((k) => site.frac.reduce((sum: number, f: number, i: number) => sum + f * material.lattice.vectors[i][k], 0));
      for (let k = 0; k < 3; k++) assertClose(site.cart[k], expected[k]!, 1e-9, `cart of ${site.label}`);
    }
    assert.match(material.cif, /_cell_length_a\s+5\.1295/);
    assert.match(material.cif, /_atom_site_occupancy/);
    assert.equal(material.json.type, 'structures');
    assert.equal(material.json.id, material.id);
    assert.equal(material.json.attributes.nsites, 8);
    assert.deepEqual(material.json.attributes.elements, ['Cl', 'Li']);

    // Read back by id: the same values.
    const fetched = dataOf(await execute(server, MATERIAL, { id: material.id }, { db })).material;
    for (const key of ['id', 'formula', 'nsites', 'volume', 'density', 'lattice', 'sites', 'cif', 'json'] as const) {
      assert.deepEqual(fetched[key], material[key], key);
    }

    // The emitted CIF and OPTIMADE JSON are accepted back and name the same stored material (same hash).
    const again = dataOf(
      await execute(server, ADD, {
        inputs: [
          { structure: { format: 'CIF', text: material.cif } },
          { structure: { format: 'JSON', text: JSON.stringify(material.json) } },
        ],
      }, { db }),
    ).addMaterials;
    assert.deepEqual(again.map((m: any) => m.id), [material.id, material.id]);
    assert.equal(await materialCount(server, db), 1);
  });

  test('a disordered site lists each species with its occupancy', async () => {
    const server = await testServer();
    const { db } = database();
    const [material] = dataOf(
      await execute(server, ADD, { inputs: [{ structure: { text: fixture('li-na-cl-disordered-p1.cif') } }] }, { db }),
    ).addMaterials;
    assert.equal(material.isOrdered, false);
    assert.equal(material.nsites, 2);
    const corner = material.sites.find((site: any) => site.species.length === 2);
    assert.deepEqual(
      [...corner.species].sort((x: any, y: any) => x.element.localeCompare(y.element)),
      [{ element: 'Li', occupancy: 0.5 }, { element: 'Na', occupancy: 0.5 }],
    );
    assertClose(material.lattice.c, 4.2, CLOSE, 'c');
    assertClose(material.volume, 4 * 4 * 4.2, 1e-9, 'volume');
  });

  test('a composition-only material has formula facts and null structure fields', async () => {
    const server = await testServer();
    const { db } = database();
    const [material] = dataOf(
      await execute(server, ADD, { inputs: [{ composition: 'Li7La3Zr2O12', name: 'LLZO' }] }, { db }),
    ).addMaterials;
    assert.equal(material.kind, 'COMPOSITION');
    assert.equal(material.reducedFormula, 'Li7La3Zr2O12');
    assert.deepEqual(material.elements, ['La', 'Li', 'O', 'Zr']);
    assert.equal(material.nelements, 4);
    assert.equal(material.natoms, 24);
    for (const key of ['nsites', 'isOrdered', 'volume', 'density', 'structureHash', 'lattice', 'sites', 'cif', 'json']) {
      assert.equal(material[key], null, key);
    }
    const fetched = dataOf(await execute(server, MATERIAL, { id: material.id }, { db })).material;
    assert.equal(fetched.formula, material.formula);
  });

  test('material(id) is null for an id that does not exist or is not an id', async () => {
    const server = await testServer();
    const { db } = database();
    for (const id of ['987654321', 'not-an-id']) {
      const result = await execute(server, MATERIAL, { id }, { db });
      assert.equal(result.errors, undefined);
      assert.equal(result.data?.material, null, id);
    }
  });

  test('filters combine like OPTIMADE (HAS ALL, HAS ONLY, nelements, formula, label)', async () => {
    const server = await testServer();
    const { db } = database();
    const added = dataOf(
      await execute(server, ADD, {
        inputs: [
          { structure: { format: 'CIF', text: fixture('licl-rocksalt-p1.cif') } },
          { composition: 'Li7La3Zr2O12' },
          { composition: 'Li3PS4' },
          { composition: 'Li2O' },
          { composition: 'NaCl' },
        ],
      }, { db }),
    ).addMaterials;
    const idOf = Object.fromEntries(added.map((m: any) => [m.reducedFormula, m.id]));
    const formulas = async (filter: Record<string, unknown>) => {
      const page = dataOf(await execute(server, PAGE, { filter, first: 50 }, { db })).materials;
      assert.equal(page.totalCount, page.edges.length);
      return page.edges.map((edge: any) => edge.node.reducedFormula).sort();
    };
    assert.deepEqual(await formulas({}), ['Li2O', 'Li3PS4', 'Li7La3Zr2O12', 'LiCl', 'NaCl']);
    assert.deepEqual(await formulas({ elementsHasAll: ['Li', 'O'] }), ['Li2O', 'Li7La3Zr2O12']);
    assert.deepEqual(await formulas({ elementsHasOnly: ['Li', 'Cl', 'O'] }), ['Li2O', 'LiCl']);
    assert.deepEqual(await formulas({ nelementsMin: 3 }), ['Li3PS4', 'Li7La3Zr2O12']);
    assert.deepEqual(await formulas({ nelementsMax: 2, elementsHasAll: ['Cl'] }), ['LiCl', 'NaCl']);
    assert.deepEqual(await formulas({ formula: 'Li6P2S8' }), ['Li3PS4']);

    const label = dataOf(
      await execute(server, `mutation { labelMaterial(input: {materialId: "${idOf.Li3PS4}", class: FAST}) { id } }`, undefined, { db }),
    );
    assert.ok(label.labelMaterial.id);
    assert.deepEqual(await formulas({ label: 'FAST' }), ['Li3PS4']);
    assert.deepEqual(await formulas({ label: 'POOR' }), []);
    assert.deepEqual(await formulas({ label: 'UNLABELLED', elementsHasAll: ['Li'] }), ['Li2O', 'Li7La3Zr2O12', 'LiCl']);
  });

  test('cursor pagination visits every material once, in order, with consistent pageInfo', async () => {
    const server = await testServer();
    const { db } = database();
    const inputs = Array.from({ length: 7 }, (_, i) => ({ composition: `Li${i + 1}Cl` }));
    const added = dataOf(await execute(server, ADD, { inputs }, { db })).addMaterials;
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = dataOf(await execute(server, PAGE, { first: 3, after }, { db })).materials;
      pages++;
      assert.equal(page.totalCount, 7);
      assert.deepEqual(page.nodes.map((n: any) => n.id), page.edges.map((e: any) => e.node.id));
      assert.equal(page.pageInfo.startCursor, page.edges[0]?.cursor ?? null);
      assert.equal(page.pageInfo.endCursor, page.edges.at(-1)?.cursor ?? null);
      assert.equal(page.pageInfo.hasPreviousPage, after !== null);
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, added.map((m: any) => m.id));

    // `first` defaults to 20.
    const all = dataOf(await execute(server, `{ materials { edges { cursor } pageInfo { hasNextPage } } }`, undefined, { db })).materials;
    assert.equal(all.edges.length, 7);
    assert.equal(all.pageInfo.hasNextPage, false);
  });

  test('bad inputs give BAD_USER_INPUT naming the problem, and write nothing', async () => {
    const server = await testServer();
    const { db } = database();
    await execute(server, ADD, { inputs: [{ composition: 'Li2O' }] }, { db });
    const before = await materialCount(server, db);
    assert.equal(before, 1);

    const good = { composition: 'Li3N' };
    const cases: { name: string; inputs: unknown[]; message: RegExp; extensions?: Record<string, unknown> }[] = [
      { name: 'empty CIF', inputs: [good, { structure: { format: 'CIF', text: '' } }], message: /inputs\[1\].*CIF.*empty/ },
      {
        name: 'unknown element in a CIF',
        inputs: [{ structure: { format: 'CIF', text: fixture('unknown-element-p1.cif') } }, good],
        message: /inputs\[0\].*unknown element "Xx"/,
        extensions: { format: 'CIF', line: 17, index: 0 },
      },
      { name: 'unknown element in a composition', inputs: [good, { composition: 'LiXx2' }], message: /inputs\[1\].*"Xx"/ },
      {
        name: 'both structure and composition',
        inputs: [{ composition: 'LiCl', structure: { text: fixture('licl-rocksalt-p1.cif') } }],
        message: /inputs\[0\].*exactly one of structure or composition/,
      },
      { name: 'neither structure nor composition', inputs: [good, { name: 'nothing' }], message: /inputs\[1\].*exactly one/ },
      { name: 'POSCAR that is not one', inputs: [{ structure: { format: 'POSCAR', text: 'Li\n' } }], message: /inputs\[0\].*POSCAR/ },
      // Found by the fuzz test: PostgreSQL text cannot hold U+0000, so these were INTERNAL_SERVER_ERROR.
      {
        name: 'a name with a NUL character',
        inputs: [good, { composition: 'LiCl', name: 'LiCl\u0000' }],
        message: /inputs\[1\]: name is not valid text: it contains a NUL character/,
        extensions: { index: 1, field: 'name' },
      },
      { name: 'a source with an unpaired surrogate', inputs: [{ composition: 'LiCl', source: 'doi:\ud800' }], message: /inputs\[0\]: source is not valid text/ },
    ];
    for (const c of cases) {
      const error = onlyError(await execute(server, ADD, { inputs: c.inputs }, { db }));
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', c.name);
      assert.match(error.message, c.message, c.name);
      for (const [key, value] of Object.entries(c.extensions ?? {})) assert.equal(error.extensions?.[key], value, `${c.name}: ${key}`);
      assert.equal(await materialCount(server, db), before, `${c.name}: nothing written`);
    }
  });

  test('bad page and filter arguments give BAD_USER_INPUT', async () => {
    const server = await testServer();
    const { db } = database();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ first: 0 }, /first must be between 1 and 200, got 0/],
      [{ first: 201 }, /first must be between 1 and 200, got 201/],
      [{ first: -5 }, /first must be between 1 and 200/],
      [{ first: 5, after: 'bm90LWEtY3Vyc29y' }, /invalid cursor/],
      [{ first: 5, filter: { elementsHasAll: ['li'] } }, /elementsHasAll.*"li"/],
      [{ first: 5, filter: { nelementsMin: -1 } }, /nelementsMin/],
    ];
    for (const [variables, message] of cases) {
      const result = await execute(server, PAGE, variables, { db });
      assert.ok(result.errors, `no error for ${JSON.stringify(variables)}`);
      const error = onlyError(result);
      assert.equal(error.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(variables));
      assert.match(error.message, message);
    }
    // A value of the wrong GraphQL type is rejected by GraphQL itself, also as BAD_USER_INPUT.
    const typeError = onlyError(await execute(server, PAGE, { first: 'ten' }, { db }));
    assert.equal(typeError.extensions?.code, 'BAD_USER_INPUT');
    assert.match(typeError.message, /\$first/);
  });
});
