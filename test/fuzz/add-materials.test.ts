/**
 * Property-based fuzz test of the addMaterials mutation (issue 6, "Bad input"), on every dialect:
 * batches mixing valid inputs (shipped CIFs, writer output, formulas) with mutated ones and odd
 * names. A batch with a bad input is answered with one BAD_USER_INPUT error naming the input (index,
 * format and line when known) and writes nothing (materials, labels, embeddings counted before and
 * after); never INTERNAL_SERVER_ERROR. An all-valid batch is written and reads back.
 *
 * The expected outcome of each input comes from building its row in-process (the same service code
 * the resolver calls). Runs per dialect: FUZZ_DB_RUNS (default 50); seed: FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { StructureParseError } from '../../src/errors.js';
import { compositionMaterialRow, structureTextMaterialRow } from '../../src/services/material-rows.js';
import type { Db } from '../../src/store/database.js';
import type { NewMaterialRow } from '../../src/store/material.table.js';
import type { StructureFormat } from '../../src/structure/index.js';
import { execute, testConfig, testServer } from '../graphql/harness.js';
import { describeDatabases } from '../support/databases.js';
import { loadCorpus } from './corpus.js';
import { applyMutations, compositionArb, mutatedInputArb, ODD_STRINGS } from './mutations.js';
import { excerpt, FUZZ, FUZZ_PARAMS, MAX_CPU_MS_PER_INPUT, MAX_MESSAGE_CHARS } from './properties.js';

const ADD = /* GraphQL */ `
  mutation Add($inputs: [AddMaterialInput!]!) {
    addMaterials(inputs: $inputs) {
      id name source kind formula reducedFormula elements nelements nsites natoms isOrdered volume density structureHash
      lattice { a b c alpha beta gamma }
      sites { species { element occupancy } frac cart label }
      cif
      json
    }
  }
`;

interface GraphQLAddInput {
  structure?: { format: StructureFormat; text: string };
  composition?: string;
  name?: string | null;
  source?: string | null;
}

const corpus = loadCorpus();

const oddName = fc.option(
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(...ODD_STRINGS.filter((s) => s.length < 100), 'x'.repeat(2001), '  LLZO  '),
    fc.string({ unit: 'binary', maxLength: 20 }),
  ),
  { nil: null, freq: 2 },
);

const inputArb: fc.Arbitrary<GraphQLAddInput> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: corpus.length - 1 }).map((i): GraphQLAddInput => ({ structure: { format: corpus[i]!.format, text: corpus[i]!.text } })) },
      {
        weight: 4,
        arbitrary: mutatedInputArb(corpus.length).map((m): GraphQLAddInput => ({ structure: applyMutations(corpus[m.sample]!, m) })),
      },
      { weight: 2, arbitrary: compositionArb.map((composition): GraphQLAddInput => ({ composition })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<GraphQLAddInput>({}, { structure: { format: 'CIF', text: corpus[0]!.text }, composition: 'LiCl' }),
      },
    ),
    oddName,
    oddName,
  )
  .map(([input, name, source]) => ({ ...input, name, source }));

/** What the service does with one input, in-process: its row, or the error it throws. */
function expectedOutcome(input: GraphQLAddInput): { row: NewMaterialRow } | { error: unknown } {
  const start = process.cpuUsage();
  try {
    const provenance = { name: input.name, source: input.source };
    if ((input.structure === undefined) === (input.composition === undefined)) throw new Error('give exactly one');
    const row = input.structure
      ? structureTextMaterialRow(input.structure.text, input.structure.format, testConfig, provenance)
      : compositionMaterialRow(input.composition!, provenance);
    return { row };
  } catch (error) {
    return { error };
  } finally {
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms <= MAX_CPU_MS_PER_INPUT, `input took ${ms.toFixed(0)} ms CPU: ${excerpt(input.structure?.text ?? input.composition ?? '')}`);
  }
}

async function counts(db: Db): Promise<{ materials: number; labels: number; embeddings: number }> {
  const { rows } = await sql<{ materials: number; labels: number; embeddings: number }>`
    select (select count(*) from material)::int as materials, (select count(*) from label)::int as labels,
           (select count(*) from embedding)::int as embeddings`.execute(db);
  return rows[0]!;
}

function describeBatch(inputs: readonly GraphQLAddInput[]): string {
  return inputs
    .map((x, i) => `  [${i}] ${x.structure ? `${x.structure.format} ${excerpt(x.structure.text, 120)}` : `composition ${excerpt(x.composition ?? '')}`} name ${excerpt(String(x.name), 40)}`)
    .join('\n');
}

describeDatabases('addMaterials fuzz', (database) => {
  test(`mixed batches: only BAD_USER_INPUT and nothing written, or all written (seed ${FUZZ.seed}, ${FUZZ.dbRuns} runs)`, async () => {
    const server = await testServer();
    const { db } = database();
    await fc.assert(
      fc.asyncProperty(fc.array(inputArb, { minLength: 1, maxLength: 4 }), async (inputs) => {
        const outcomes = inputs.map(expectedOutcome);
        const firstBad = outcomes.findIndex((o) => 'error' in o);
        const before = await counts(db);
        const result = await execute(server, ADD, { inputs }, { db });
        const after = await counts(db);
        const context = `batch:\n${describeBatch(inputs)}\nerrors: ${JSON.stringify(result.errors)?.slice(0, 1000)}`;

        for (const error of result.errors ?? []) {
          assert.equal(error.extensions?.code, 'BAD_USER_INPUT', context);
          assert.ok(error.message.length <= MAX_MESSAGE_CHARS + 20, `${context}\nmessage of ${error.message.length} chars`);
        }
        if (firstBad >= 0) {
          assert.equal(result.errors?.length, 1, context);
          const error = result.errors![0]!;
          assert.match(error.message, new RegExp(`^inputs\\[${firstBad}\\]: `), context);
          assert.equal(error.extensions?.index, firstBad, context);
          const cause = (outcomes[firstBad] as { error: unknown }).error;
          if (cause instanceof StructureParseError) {
            assert.equal(error.extensions?.format, cause.format, context);
            assert.equal(error.extensions?.line, cause.line, context);
          }
          assert.deepEqual(after, before, `${context}\na rejected batch changed the store`);
        } else {
          assert.equal(result.errors, undefined, context);
          const added = result.data!.addMaterials as { id: string; formula: string; structureHash: string | null }[];
          assert.equal(added.length, inputs.length, context);
          added.forEach((material, i) => {
            const { row } = outcomes[i] as { row: NewMaterialRow };
            assert.equal(material.formula, row.formula, context);
            assert.equal(material.structureHash, row.structure_hash, context);
          });
          const newRows = after.materials - before.materials;
          assert.ok(newRows >= 0 && newRows <= inputs.length, `${context}\n${newRows} new rows`);
          assert.equal(after.labels, before.labels, context);
          assert.equal(after.embeddings, before.embeddings, context);
        }
      }),
      { ...FUZZ_PARAMS, numRuns: FUZZ.dbRuns },
    );
  });
});
