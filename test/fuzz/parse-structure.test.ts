/**
 * Property-based fuzz test of the structure parser (issue 6, "Bad input"): random text and
 * mutations of real CIF, POSCAR and JSON inputs. For every input, parse + validate + facts (what
 * addMaterials does per input) either gives a valid structure or throws BadInputError /
 * StructureParseError (never TypeError, RangeError, a stack overflow or a hang), within 1 s of CPU.
 *
 * Longer runs: FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM node --import tsx --test test/fuzz/parse-structure.test.ts
 */
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { loadCorpus, type Sample } from './corpus.js';
import { applyMutations, compositionArb, mutatedInputArb, randomInputArb } from './mutations.js';
import { assertParseOutcome, FUZZ, FUZZ_PARAMS } from './properties.js';
import { ParseSandbox } from './sandbox.js';

const { maxSites, maxTextBytes } = loadConfig({});
const limits = { maxSites, maxTextBytes };

describe(`structure parser fuzz (seed ${FUZZ.seed}, FUZZ_RUNS ${FUZZ.runs})`, () => {
  const sandbox = new ParseSandbox();
  let corpus: Sample[];
  before(() => {
    corpus = loadCorpus();
  });
  after(() => sandbox.close());

  test('every seed input parses (the corpus is valid before it is mutated)', async () => {
    for (const sample of corpus) {
      const result = await sandbox.run({ kind: 'structure', format: sample.format, text: sample.text, limits });
      assertParseOutcome(result, { kind: 'structure', format: sample.format, text: sample.text, maxSites }, sample.origin);
      if (result.outcome !== 'ok') throw new Error(`${sample.origin} does not parse`);
    }
  });

  test('mutated real inputs: a valid structure or BAD_USER_INPUT, ≤ 1 s CPU each', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedInputArb(corpus.length), async (input) => {
        const sample = corpus[input.sample]!;
        const { format, text } = applyMutations(sample, input);
        const result = await sandbox.run({ kind: 'structure', format, text, limits });
        assertParseOutcome(result, { kind: 'structure', format, text, maxSites }, `${sample.origin} as ${format}, ${JSON.stringify(input.mutations)}`);
      }),
      { ...FUZZ_PARAMS, numRuns: FUZZ.runs },
    );
  });

  test('random text: a valid structure or BAD_USER_INPUT, ≤ 1 s CPU each', async () => {
    await fc.assert(
      fc.asyncProperty(randomInputArb, async ({ format, text }) => {
        const result = await sandbox.run({ kind: 'structure', format, text, limits });
        assertParseOutcome(result, { kind: 'structure', format, text, maxSites }, `random ${format}`);
      }),
      { ...FUZZ_PARAMS, numRuns: FUZZ.runs * 3 }, // small inputs: cheap
    );
  });

  test('compositions: a formula of known elements with positive amounts, or BAD_USER_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(compositionArb, async (text) => {
        const result = await sandbox.run({ kind: 'composition', text });
        assertParseOutcome(result, { kind: 'composition', text }, 'composition');
      }),
      { ...FUZZ_PARAMS, numRuns: FUZZ.runs },
    );
  });
});
