/**
 * Labels through GraphQL (label, relabel, retract, current label, history), error mapping and masking,
 * and the DataLoader guarantee: a page of materials with nested label fields costs a constant number
 * of SQL statements, whatever the page size.
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { addMaterials } from '../../src/services/materials.js';
import { labelMaterial, retractLabel } from '../../src/services/screening.js';
import type { Db } from '../../src/store/database.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { captureLogger, countingDb, dataOf, execute, onlyError, testConfig, testServer, tokenPrincipal } from './harness.js';

const LABEL = /* GraphQL */ `
  mutation Label($input: LabelMaterialInput!) {
    labelMaterial(input: $input) {
      id class conductivity temperature source reason createdBy createdAt retracted
      material { id label { id class } }
    }
  }
`;

const RETRACT = /* GraphQL */ `
  mutation Retract($id: ID!, $reason: String) {
    retractLabel(id: $id, reason: $reason) { id class retracted material { id label { id class } } }
  }
`;

const MATERIAL_LABELS = /* GraphQL */ `
  query MaterialLabels($id: ID!) {
    material(id: $id) {
      label { id class }
      labels { id class retracted }
    }
  }
`;

async function addComposition(db: Db, composition: string): Promise<string> {
  const [material] = await addMaterials(db, [{ composition }], { ...testConfig, actor: 'test' });
  return material!.id;
}

describeDatabases('GraphQL labels', (database) => {
  beforeEach(async () => {
    await resetDatabase(database().db);
  });

  test('label, relabel and retract: the current label follows, the history keeps every label', async () => {
    const server = await testServer();
    const { db } = database();
    const materialId = await addComposition(db, 'Li3PS4');

    const fast = dataOf(
      await execute(server, LABEL, {
        input: { materialId, class: 'FAST', conductivity: 1.2e-3, temperature: 298.15, source: 'doi:10.1000/x', reason: 'EIS' },
      }, { db, principal: tokenPrincipal('alice', 'curator') }),
    ).labelMaterial;
    assert.equal(fast.class, 'FAST');
    assert.equal(fast.conductivity, 1.2e-3);
    assert.equal(fast.temperature, 298.15);
    assert.equal(fast.source, 'doi:10.1000/x');
    assert.equal(fast.reason, 'EIS');
    assert.equal(fast.createdBy, 'alice');
    assert.equal(fast.retracted, false);
    assert.ok(!Number.isNaN(Date.parse(fast.createdAt)));
    assert.deepEqual(fast.material, { id: materialId, label: { id: fast.id, class: 'FAST' } });

    const poor = dataOf(await execute(server, LABEL, { input: { materialId, class: 'POOR' } }, { db })).labelMaterial;
    assert.equal(poor.createdBy, 'test', 'the name of the token the request used');
    // Label.material.label, read in the same request as the mutation, is the new label (no stale cache).
    assert.deepEqual(poor.material.label, { id: poor.id, class: 'POOR' });
    let state = dataOf(await execute(server, MATERIAL_LABELS, { id: materialId }, { db })).material;
    assert.deepEqual(state.label, { id: poor.id, class: 'POOR' });
    assert.deepEqual(state.labels.map((l: any) => [l.id, l.class, l.retracted]), [
      [poor.id, 'POOR', false],
      [fast.id, 'FAST', false],
    ]);

    const retracted = dataOf(await execute(server, RETRACT, { id: poor.id, reason: 'wrong sample' }, { db })).retractLabel;
    assert.deepEqual(retracted, {
      id: poor.id,
      class: 'POOR',
      retracted: true,
      material: { id: materialId, label: { id: fast.id, class: 'FAST' } },
    });
    state = dataOf(await execute(server, MATERIAL_LABELS, { id: materialId }, { db })).material;
    assert.deepEqual(state.label, { id: fast.id, class: 'FAST' });
    // The retraction is bookkeeping, not a label: the history still has exactly the two labels.
    assert.deepEqual(state.labels.map((l: any) => [l.id, l.class, l.retracted]), [
      [poor.id, 'POOR', true],
      [fast.id, 'FAST', false],
    ]);
    const byId = dataOf(await execute(server, `query($id: ID!) { label(id: $id) { id retracted } }`, { id: poor.id }, { db }));
    assert.deepEqual(byId.label, { id: poor.id, retracted: true });
    // Who retracted it, when and why — in the mutation's answer, by id and in the history.
    const RETRACTION = `query($id: ID!, $m: ID!) { label(id: $id) { retraction { reason createdBy createdAt } }
      material(id: $m) { labels { id retraction { reason createdBy } } } }`;
    const audit = dataOf(await execute(server, RETRACTION, { id: poor.id, m: materialId }, { db }));
    assert.equal(audit.label.retraction.reason, 'wrong sample');
    assert.equal(audit.label.retraction.createdBy, 'test');
    assert.ok(Math.abs(Date.parse(audit.label.retraction.createdAt) - Date.now()) < 600_000, audit.label.retraction.createdAt);
    assert.deepEqual(audit.material.labels, [
      { id: poor.id, retraction: { reason: 'wrong sample', createdBy: 'test' } },
      { id: fast.id, retraction: null },
    ]);

    // Retracting twice is a conflict; retracting the last label leaves the material unlabelled.
    const twice = onlyError(await execute(server, RETRACT, { id: poor.id }, { db }));
    assert.equal(twice.extensions?.code, 'CONFLICT');
    assert.match(twice.message, /already retracted/);
    dataOf(await execute(server, RETRACT, { id: fast.id }, { db }));
    state = dataOf(await execute(server, MATERIAL_LABELS, { id: materialId }, { db })).material;
    assert.equal(state.label, null);
    const unlabelled = dataOf(
      await execute(server, `{ materials(filter: {label: UNLABELLED}) { nodes { id } } }`, undefined, { db }),
    ).materials.nodes;
    assert.deepEqual(unlabelled, [{ id: materialId }]);
  });

  test('Query.labels pages through the label history, newest first', async () => {
    const server = await testServer();
    const { db } = database();
    const materialId = await addComposition(db, 'Li2S');
    const ids: string[] = [];
    for (const cls of ['FAST', 'POOR', 'FAST'] as const) ids.push((await labelMaterial(db, { materialId, class: cls })).id);
    const query = `query($m: ID!, $after: String) {
      labels(materialId: $m, first: 2, after: $after) { totalCount edges { cursor node { id class material { id } } } pageInfo { hasNextPage endCursor } }
    }`;
    const first = dataOf(await execute(server, query, { m: materialId }, { db })).labels;
    assert.equal(first.totalCount, 3);
    assert.deepEqual(first.edges.map((e: any) => e.node.id), [ids[2], ids[1]]);
    assert.equal(first.edges[0].node.material.id, materialId);
    assert.equal(first.pageInfo.hasNextPage, true);
    const second = dataOf(await execute(server, query, { m: materialId, after: first.pageInfo.endCursor }, { db })).labels;
    assert.deepEqual(second.edges.map((e: any) => e.node.id), [ids[0]]);
    assert.equal(second.pageInfo.hasNextPage, false);

    const missing = onlyError(await execute(server, query, { m: '987654321' }, { db }));
    assert.equal(missing.extensions?.code, 'NOT_FOUND');
  });

  test(
    'Query.labels shows a retracted label once and never the retraction row',
    async () => {
      const server = await testServer();
      const { db } = database();
      const materialId = await addComposition(db, 'Li3N');
      const kept = await labelMaterial(db, { materialId, class: 'FAST' });
      const dropped = await labelMaterial(db, { materialId, class: 'POOR' });
      await retractLabel(db, dropped.id, 'test', 'mistake');
      const result = await execute(
        server,
        `query($m: ID!) { labels(materialId: $m) { totalCount nodes { id class retracted } } }`,
        { m: materialId },
        { db },
      );
      const labels = dataOf(result).labels;
      assert.deepEqual(labels.nodes, [
        { id: dropped.id, class: 'POOR', retracted: true },
        { id: kept.id, class: 'FAST', retracted: false },
      ]);
      assert.equal(labels.totalCount, 2);
    },
  );

  test('bad label inputs: NOT_FOUND for a missing material or label, BAD_USER_INPUT for bad values; nothing written', async () => {
    const server = await testServer();
    const { db } = database();
    const materialId = await addComposition(db, 'LiF');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ materialId: '987654321', class: 'FAST' }, 'NOT_FOUND', /material 987654321 not found/],
      [{ materialId, class: 'FAST', temperature: 0 }, 'BAD_USER_INPUT', /temperature/],
      [{ materialId, class: 'FAST', temperature: 2500 }, 'BAD_USER_INPUT', /temperature/],
      [{ materialId, class: 'POOR', conductivity: -1e-5 }, 'BAD_USER_INPUT', /conductivity/],
    ];
    for (const [input, code, message] of cases) {
      const error = onlyError(await execute(server, LABEL, { input }, { db }));
      assert.equal(error.extensions?.code, code, JSON.stringify(input));
      assert.match(error.message, message);
    }
    const unknownClass = onlyError(await execute(server, LABEL, { input: { materialId, class: 'MEDIUM' } }, { db }));
    assert.equal(unknownClass.extensions?.code, 'BAD_USER_INPUT');
    const state = dataOf(await execute(server, MATERIAL_LABELS, { id: materialId }, { db })).material;
    assert.deepEqual(state, { label: null, labels: [] });

    const missingLabel = onlyError(await execute(server, RETRACT, { id: '987654321' }, { db }));
    assert.equal(missingLabel.extensions?.code, 'NOT_FOUND');
  });

  test('unexpected errors are masked: generic message, INTERNAL_SERVER_ERROR, request id; the log has the cause', async () => {
    const { logger, lines } = captureLogger();
    const server = await testServer(logger);
    const secret = 'relation "secret_table" does not exist (select password from secret_table)';
    const brokenDb = database().db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async () => {
        throw new Error(secret);
      },
    });
    const result = await execute(server, `{ materials { totalCount } }`, undefined, {
      db: brokenDb,
      logger,
      requestId: 'req-test-42',
    });
    const error = onlyError(result);
    assert.equal(error.message, 'Internal server error');
    assert.deepEqual(error.extensions, { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-test-42' });
    assert.ok(!JSON.stringify(result).includes('secret_table'), 'the cause must not reach the client');
    const logged = lines.find((line) => line.requestId === 'req-test-42' && line.level === 50);
    assert.ok(logged, `no error log line for the request: ${JSON.stringify(lines)}`);
    assert.match(JSON.stringify(logged.err), /secret_table/);

    // Errors about the request itself pass through with their own codes.
    const invalid = onlyError(await execute(server, `{ materials { nope } }`, undefined, { db: database().db, logger }));
    assert.equal(invalid.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.match(invalid.message, /Cannot query field "nope"/);
    const unparsable = onlyError(await execute(server, `{ materials {`, undefined, { db: database().db, logger }));
    assert.equal(unparsable.extensions?.code, 'GRAPHQL_PARSE_FAILED');
    assert.equal(lines.filter((line) => line.level === 50).length, 1, 'only the unexpected error is logged as an error');
  });

  test('DataLoaders: a page of materials with label, labels and label.material costs the same number of queries for 5 and 20', async () => {
    const server = await testServer();
    const { db } = database();
    const materials = await addMaterials(
      db,
      Array.from({ length: 20 }, (_, i) => ({ composition: `Li${i + 1}Cl` })),
      { ...testConfig, actor: 'test' },
    );
    for (const [i, material] of materials.entries()) {
      const first = await labelMaterial(db, { materialId: material.id, class: 'POOR' });
      await labelMaterial(db, { materialId: material.id, class: i % 2 ? 'FAST' : 'POOR' });
      if (i % 3 === 0) await retractLabel(db, first.id);
    }
    const query = `query($first: Int!) {
      materials(first: $first) {
        totalCount
        edges { node {
          id
          label { id class material { id label { id } } }
          labels { id class retracted material { id reducedFormula } }
        } }
      }
    }`;
    const queriesFor = async (first: number) => {
      const { db: counted, counter } = countingDb(db);
      const page = dataOf(await execute(server, query, { first }, { db: counted })).materials;
      assert.equal(page.edges.length, first);
      for (const { node } of page.edges) {
        assert.equal(node.label.material.id, node.id);
        assert.equal(node.labels.length, 2);
        for (const label of node.labels) assert.equal(label.material.id, node.id);
      }
      return counter.count;
    };
    const five = await queriesFor(5);
    const twenty = await queriesFor(20);
    console.log(`# SQL statements for a page with label/labels/label.material: first=5 → ${five}, first=20 → ${twenty}`);
    assert.equal(twenty, five);
    // listMaterials (page + count), current labels, label histories; Label.material is primed from the page.
    assert.ok(five <= 4, `expected at most 4 statements, got ${five}`);

    // Several root fields asking for materials by id share one batch.
    const { db: counted, counter } = countingDb(db);
    const ids = materials.slice(0, 6).map((m) => m.id);
    const aliases = ids.map((id, i) => `m${i}: material(id: "${id}") { id label { class } }`).join('\n');
    const data = dataOf(await execute(server, `{ ${aliases} }`, undefined, { db: counted }));
    assert.deepEqual(ids.map((_, i) => data[`m${i}`].id), ids);
    assert.equal(counter.count, 2, 'one query for the materials, one for their current labels');
  });
});
