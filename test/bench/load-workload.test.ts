/**
 * The request mix of `npm run bench:load` (bench/load-workload.ts): every operation it sends is valid
 * against the schema and within the default operation limits, the kinds follow the weights, and the
 * error test on response bodies is exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BENCH_TRAINING_INPUT,
  CANDIDATES_OF_FORMULA_QUERY,
  hasGraphQLErrors,
  LABEL_MUTATION,
  MODEL_QUERY,
  parseMix,
  percentiles,
  READ_KINDS,
  ReadWorkload,
  TRAIN_MUTATION,
  type ReadKind,
} from '../../bench/load-workload.js';
import { loadConfig } from '../../src/config.js';
import { buildIonsieveSchema } from '../../src/graphql/build-schema.js';
import { checkOperation } from '../../src/graphql/limits.js';

const limits = loadConfig({}).limits;
const schema = await buildIonsieveSchema();

function assertValid(payload: { query: string; variables?: Record<string, unknown> }, what: string): void {
  const checked = checkOperation(limits, schema, payload);
  assert.ok(!('errors' in checked), `${what}: ${'errors' in checked ? checked.errors.map((e) => e.message).join('; ') : ''}`);
}

test('every read the workload builds is a valid operation within the default limits', () => {
  const workload = new ReadWorkload({ embedded: ['7', '8'], all: ['1', '7', '8'] }, parseMix('screen-first:1,screen-next:1,similar:1,material:1'), 20);
  for (const kind of READ_KINDS) assertValid(JSON.parse(workload.body(kind)), `${kind} before any cursor`);
  const cursor = Buffer.from('screen:1.5:42:20', 'utf8').toString('base64');
  workload.noteScreenResponse(JSON.stringify({ data: { screen: { edges: [], pageInfo: { endCursor: cursor, hasNextPage: true } } } }));
  assert.equal(workload.cursorsSeen, 1);
  const next = JSON.parse(workload.body('screen-next'));
  assert.equal(next.variables.after, cursor);
  assertValid(next, 'screen-next with a cursor');
});

test('the writes and checks of the bench are valid operations', () => {
  assertValid(
    { query: LABEL_MUTATION, variables: { input: { materialId: '7', class: 'FAST', conductivity: 1e-3, temperature: 298, source: 'bench:load' } } },
    'labelMaterial',
  );
  assertValid({ query: CANDIDATES_OF_FORMULA_QUERY, variables: { formula: 'Li3PS4', after: null } }, 'read-your-write check');
  assertValid({ query: TRAIN_MUTATION, variables: { input: BENCH_TRAINING_INPUT } }, 'trainModel');
  assertValid({ query: MODEL_QUERY, variables: { id: '2' } }, 'model');
});

test('kinds are drawn by weight; a zero weight is never drawn', () => {
  // A fixed-seed generator: the counts below are deterministic.
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const workload = new ReadWorkload({ embedded: ['1', '2'], all: ['1', '2', '3'] }, parseMix('screen-first:2,similar:1,material:1'), 20, random);
  const counts = new Map<ReadKind, number>();
  for (let i = 0; i < 4000; i++) {
    const { kind } = workload.next();
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  assert.equal(counts.get('screen-next'), undefined);
  assert.ok(Math.abs(counts.get('screen-first')! / 4000 - 0.5) < 0.03, `screen-first ${counts.get('screen-first')}`);
  assert.ok(Math.abs(counts.get('similar')! / 4000 - 0.25) < 0.03, `similar ${counts.get('similar')}`);
  assert.ok(Math.abs(counts.get('material')! / 4000 - 0.25) < 0.03, `material ${counts.get('material')}`);
  assert.throws(() => parseMix('screen:1'), /unknown kind/);
  assert.throws(() => parseMix('similar:0'), /every weight is 0/);
});

test('hasGraphQLErrors finds an errors key, not the word inside a value', () => {
  assert.equal(hasGraphQLErrors(JSON.stringify({ errors: [{ message: 'x' }], data: null })), true);
  assert.equal(hasGraphQLErrors(JSON.stringify({ data: { material: { name: '"errors": none', formula: 'errors' } } })), false);
});

test('percentiles by nearest rank', () => {
  const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1));
  assert.deepEqual(p, { n: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  assert.equal(percentiles([]).n, 0);
});
