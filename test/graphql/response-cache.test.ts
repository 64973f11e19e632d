/**
 * The response cache (src/graphql/cache/response-cache.ts) on the real HTTP server and the real change
 * feed: hits repeat what an execution gives, every write that changes an answer reaches it (through
 * this server, through the database directly, in `strict` and in `notify` mode), a fold does not
 * invalidate, and the static rules cover every resolver.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse, type OperationDefinitionNode } from 'graphql';
import { sql } from 'kysely';
import { getMetadataStorage } from 'type-graphql';
import { buildIonsieveSchema } from '../../src/graphql/build-schema.js';
import { CACHE_STATUS_HEADER, FIELD_RULES, planOperation } from '../../src/graphql/cache/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { foldScreening, labelMaterialWithScreening, screeningFoldsIdle } from '../../src/services/screening.js';
import { createApiToken } from '../../src/services/tokens.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { seedScreenedModel } from '../screening/fixtures.js';
import { captureLogger, testConfig } from './harness.js';

const DIM = 4;

const SCREEN = 'query Screen($first: Int!) { screen(first: $first) { totalCount edges { rank score node { id formula label { class } } nearestFast(k: 2) { distance material { id } } } } }';
const MATERIAL = 'query Material($id: ID!) { material(id: $id) { id formula label { class conductivity } screening { score predictedClass } } }';
const SIMILAR = 'query Similar($id: ID!) { similarMaterials(input: { materialId: $id, k: 3 }) { rank distance material { id label { class } } } }';
const LABEL = 'mutation Label($input: LabelMaterialInput!) { labelMaterial(input: $input) { id } }';

describeDatabases('response cache', (database) => {
  const { logger } = captureLogger();
  /** Two "replicas" on one database: `notify` mode (LISTEN) and the default `strict` mode. */
  let notifying: RunningServer;
  let strict: RunningServer;
  /** No cache at all: every answer executed against the database (the reference for equality). */
  let uncached: RunningServer;
  let curator: string;
  let materialIds: string[];

  before(async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    await resetDatabase(db);
    ({ materialIds } = await seedScreenedModel(db, { dim: DIM, count: 24, labelled: 8, seed: 11 }));
    curator = (await createApiToken(db, { name: 'cache-curator', role: 'curator' })).secret;
    const config = { ...testConfig, host: '127.0.0.1', port: 0 };
    notifying = await startServer({ db, config: { ...config, responseCache: { ...config.responseCache, consistency: 'notify' } }, logger, listen: database().listen });
    // The default; LISTEN is there but unused by the cache.
    strict = await startServer({ db, config, logger, listen: database().listen });
    uncached = await startServer({ db, config: { ...config, responseCache: { ...config.responseCache, maxEntries: 0 } }, logger });
  });
  after(async () => {
    await notifying?.close();
    await strict?.close();
    await uncached?.close();
  });

  async function post(server: RunningServer, query: string, variables: Record<string, unknown>, token?: string) {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as any;
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return { cache: response.headers.get(CACHE_STATUS_HEADER), data: body.data };
  }

  /** Polls until `check` holds (notify mode: a NOTIFY is on its way), at most 5 s. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail('the change did not reach the cache within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('a repeated query is a hit with the body an execution gives; a mutation is seen by the next request', async () => {
    const candidate = materialIds[20]!;
    const first = await post(notifying, MATERIAL, { id: candidate });
    const second = await post(notifying, MATERIAL, { id: candidate });
    assert.equal(first.cache, 'miss');
    assert.equal(second.cache, 'hit');
    assert.deepEqual(second.data, first.data);
    assert.equal(first.data.material.label, null);

    const page = await post(notifying, SCREEN, { first: 30 });
    assert.ok(page.data.screen.edges.some((e: any) => e.node.id === candidate));
    assert.equal((await post(notifying, SCREEN, { first: 30 })).cache, 'hit');

    await post(notifying, LABEL, { input: { materialId: candidate, class: 'FAST', conductivity: 2e-3, source: 'cache test' } }, curator);
    // No waiting: the mutation's own server reads the feed before its next answer.
    const after = await post(notifying, MATERIAL, { id: candidate });
    assert.equal(after.cache, 'miss');
    assert.deepEqual(after.data.material.label, { class: 'FAST', conductivity: 2e-3 });
    const pageAfter = await post(notifying, SCREEN, { first: 30 });
    assert.equal(pageAfter.data.screen.totalCount, page.data.screen.totalCount - 1);
    assert.ok(!pageAfter.data.screen.edges.some((e: any) => e.node.id === candidate), 'a labelled material leaves the ranking');
  });

  test('a write that did not go through the server: strict sees it at once, notify once its NOTIFY lands', async () => {
    const { db } = database();
    const candidate = materialIds[21]!;
    for (const server of [strict, notifying]) {
      await post(server, MATERIAL, { id: candidate });
      assert.equal((await post(server, MATERIAL, { id: candidate })).cache, 'hit');
    }
    await labelMaterialWithScreening(db, { materialId: candidate, class: 'POOR', source: 'direct write' });
    assert.equal((await post(strict, MATERIAL, { id: candidate })).data.material.label.class, 'POOR');
    await eventually(async () => (await post(notifying, MATERIAL, { id: candidate })).data.material.label?.class === 'POOR');
  });

  test('a fold keeps cached answers (they equal a fresh execution); a label of a neighbour invalidates similarMaterials', async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    const before = await post(strict, SCREEN, { first: 10 });
    assert.equal((await post(strict, SCREEN, { first: 10 })).cache, 'hit');
    const feedRows = async () => Number((await sql<{ n: string }>`select count(*)::text as n from change_log`.execute(db)).rows[0]!.n);
    // A label leaves an event pending; its fold re-stores the same scores and writes no feed row.
    await labelMaterialWithScreening(db, { materialId: materialIds[22]!, class: 'FAST', source: 'fold test' }, undefined, { fold: 'none' });
    await screeningFoldsIdle(db);
    const pending = await post(strict, SCREEN, { first: 10 });
    assert.equal(pending.cache, 'miss');
    assert.notDeepEqual(pending.data, before.data);
    const rowsBeforeFold = await feedRows();
    const modelId = String((await db.selectFrom('model').select('id').executeTakeFirstOrThrow()).id);
    assert.equal(await foldScreening(db, modelId), 1, 'the one pending event is folded');
    assert.equal(await feedRows(), rowsBeforeFold, 'a fold adds nothing to the change feed');
    const folded = await post(strict, SCREEN, { first: 10 });
    assert.equal(folded.cache, 'hit');
    // What an execution after the fold gives (a query text the cache has not seen).
    const fresh = await post(strict, SCREEN.replace('query Screen', 'query ScreenFresh'), { first: 10 });
    assert.equal(fresh.cache, 'miss');
    assert.deepEqual(fresh.data, folded.data);

    const target = materialIds[12]!;
    const similar = await post(strict, SIMILAR, { id: target });
    assert.equal((await post(strict, SIMILAR, { id: target })).cache, 'hit');
    const neighbours = new Set(similar.data.similarMaterials.map((n: any) => n.material.id));
    const stranger = materialIds.slice(8).find((id) => id !== target && !neighbours.has(id) && id !== materialIds[20] && id !== materialIds[21] && id !== materialIds[22])!;
    await labelMaterialWithScreening(db, { materialId: stranger, class: 'POOR', source: 'not a neighbour' });
    assert.equal((await post(strict, SIMILAR, { id: target })).cache, 'hit', 'a label elsewhere leaves it');
    const neighbour = similar.data.similarMaterials.find((n: any) => n.material.label === null)?.material.id as string;
    assert.ok(neighbour, 'an unlabelled neighbour');
    await labelMaterialWithScreening(db, { materialId: neighbour, class: 'FAST', source: 'a neighbour' });
    const relabelled = await post(strict, SIMILAR, { id: target });
    assert.equal(relabelled.cache, 'miss');
    assert.equal(relabelled.data.similarMaterials.find((n: any) => n.material.id === neighbour).material.label.class, 'FAST');
    await screeningFoldsIdle(db);
  });

  test('shared reads: another query for the same data reads nothing again; a POOR label keeps the nearest FAST lists, a FAST label drops them; answers equal executions without a cache', async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    // Operation names make each request a new response-cache key: what is reused is shared reads only.
    const screenAs = (name: string) => SCREEN.replace('query Screen', `query ${name}`);
    const stats = () => strict.responseCache.stats();
    const same = async (name: string) => {
      const cached = await post(strict, screenAs(name), { first: 10 });
      assert.equal(cached.cache, 'miss');
      assert.deepEqual(cached.data, (await post(uncached, screenAs(name), { first: 10 })).data, `${name}: as executed without a cache`);
      return cached.data.screen.edges as Array<{ node: { id: string } }>;
    };

    const edges = await same('SharedA');
    const filled = stats();
    await same('SharedB');
    const reused = stats();
    assert.equal(reused.dataMisses, filled.dataMisses, 'the model and view, material rows, labels and nearest FAST lists come from the first answer');
    assert.ok(reused.dataHits >= filled.dataHits + 1 + edges.length, 'one view and a nearest FAST list per edge at least');

    // A POOR reference changes every score (the view is read again) but no nearest FAST list.
    await labelMaterialWithScreening(db, { materialId: edges.at(-1)!.node.id, class: 'POOR', source: 'shared reads' });
    const beforePoor = stats();
    const afterPoor = await same('SharedC');
    const poor = stats();
    const newNodes = afterPoor.filter((e) => !edges.some((old) => old.node.id === e.node.id)).length;
    // The view, plus at most a list per node not on the earlier page (one candidate left the ranking).
    assert.ok(poor.dataMisses - beforePoor.dataMisses <= 1 + newNodes, `misses after a POOR label: ${poor.dataMisses - beforePoor.dataMisses}`);

    // A FAST reference can be any node's nearest: every list is read again.
    await labelMaterialWithScreening(db, { materialId: afterPoor.at(-1)!.node.id, class: 'FAST', source: 'shared reads' });
    const beforeFast = stats();
    const afterFast = await same('SharedD');
    assert.ok(stats().dataMisses - beforeFast.dataMisses >= afterFast.length, 'each list read again after a FAST label');
    await screeningFoldsIdle(db);
  });

  test('reads racing grouped label writes leave no stale answer: afterwards every answer equals an execution without a cache', async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    const { rows } = await sql<{ id: string }>`select id::text as id from material where current_label_class is null and id = any(${materialIds}::bigint[]) order by id`.execute(db);
    // New references and relabels (a reference changing class), four at a time: the writes of a round go in groups.
    const rounds = [
      [rows[0]!.id, rows[1]!.id, materialIds[0]!, materialIds[1]!],
      [rows[2]!.id, materialIds[2]!, materialIds[3]!, rows[3]!.id],
    ];
    const screens = [10, 11, 12, 13];
    let stop = false;
    // Reads in flight all the while fill results and shared reads from many feed positions.
    const reader = (async () => {
      for (let i = 0; !stop; i++) {
        const id = materialIds[i % materialIds.length]!;
        await Promise.all([post(strict, MATERIAL, { id }), post(strict, SIMILAR, { id }), post(strict, SCREEN, { first: screens[i % screens.length] })]);
      }
    })();
    for (const [round, ids] of rounds.entries()) {
      await Promise.all(
        ids.map((materialId, j) =>
          post(strict, LABEL, { input: { materialId, class: (round + j) % 2 === 0 ? 'FAST' : 'POOR', source: 'race' } }, curator),
        ),
      );
    }
    stop = true;
    await reader;
    for (const id of materialIds) {
      assert.deepEqual((await post(strict, MATERIAL, { id })).data, (await post(uncached, MATERIAL, { id })).data, `material ${id}`);
      assert.deepEqual((await post(strict, SIMILAR, { id })).data, (await post(uncached, SIMILAR, { id })).data, `similar ${id}`);
    }
    for (const first of screens) {
      assert.deepEqual((await post(strict, SCREEN, { first })).data, (await post(uncached, SCREEN, { first })).data, `screen first ${first}`);
    }
    await screeningFoldsIdle(db);
  });
});

test('planOperation: queries of known fields are cacheable with their tables; mutations, introspection and caller-dependent fields are not', async () => {
  const schema = await buildIonsieveSchema();
  const plan = (text: string) => {
    const document = parse(text);
    return planOperation(schema, document, document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode);
  };
  const materials = plan('query { materials(first: 2) { ...M } } fragment M on MaterialConnection { nodes { id labels { class } } }');
  assert.equal(materials.cacheable, true);
  assert.deepEqual([...materials.tags].sort(), ['embedding', 'label', 'material', 'model']);
  assert.deepEqual(plan('{ screen(first: 1) { edges { rank } } }'), { cacheable: true, tags: [] });
  assert.equal(plan('mutation { retractLabel(id: "1") { id } }').cacheable, false);
  assert.equal(plan('{ viewer { role } }').cacheable, false);
  assert.equal(plan('{ __schema { queryType { name } } }').cacheable, false);
  assert.equal(plan('{ scoreStructure(structure: { format: CIF, text: "x" }) { score } }').cacheable, false);
});

test('FIELD_RULES names every @Query and @FieldResolver (a new resolver must say what it reads)', async () => {
  await buildIonsieveSchema();
  const storage = getMetadataStorage();
  const typeName = (target: Function | undefined) => storage.objectTypes.find((t) => t.target === target)?.name;
  const fieldName = (r: (typeof storage.fieldResolvers)[number]) =>
    `${typeName(r.getObjectType?.() ?? r.resolverClassMetadata?.getObjectType()) ?? '?'}.${r.schemaName}`;
  const resolved = [...storage.queries.map((q) => `Query.${q.schemaName}`), ...storage.fieldResolvers.map(fieldName)];
  const missing = [...new Set(resolved)].filter((name) => !(name in FIELD_RULES));
  assert.deepEqual(missing, []);
  const stale = Object.keys(FIELD_RULES).filter((name) => !resolved.includes(name));
  assert.deepEqual(stale, [], 'rules for fields that no longer exist');
  // A cached result is shared by every caller: a field that needs a role must never be cached.
  const gated = [
    ...storage.queries.filter((q) => q.roles?.length).map((q) => `Query.${q.schemaName}`),
    ...storage.fieldResolvers.filter((r) => r.roles?.length).map(fieldName),
  ];
  assert.ok(gated.includes('Query.apiTokens'));
  assert.deepEqual(gated.filter((name) => FIELD_RULES[name] !== 'never'), []);
  assert.ok(!storage.fields.some((f) => f.roles?.length), 'no plain field needs a role (it would be cached with its parent)');
});
