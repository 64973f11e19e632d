/**
 * GraphQL Code Generator: the TypeScript types of every dashboard document (web/src/api/queries.ts,
 * found by their `/* GraphQL *\/` comments), generated from the committed schema/schema.graphql into
 * web/src/api/graphql.ts. Run from the repository root with `npm run codegen`;
 * test/web/codegen.test.ts fails when the committed file differs from what this config generates.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Paths relative to the repository root (the working directory of `npm run codegen`). */
export const WEB_TYPES_FILE = 'web/src/api/graphql.ts';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['web/src/api/queries.ts'],
  emitLegacyCommonJSImports: false,
  generates: {
    [WEB_TYPES_FILE]: {
      plugins: [
        { add: { content: '/* Generated from schema/schema.graphql and web/src/api/queries.ts by `npm run codegen`. Do not edit by hand. */' } },
        'typescript-operations',
      ],
      config: {
        // typescript-operations emits only what the documents use: their enums, inputs and scalars, and one result type per document.
        enumsAsTypes: true,
        skipTypename: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        maybeValue: 'T | null',
        inputMaybeValue: 'T | null | undefined',
        useTypeImports: true,
        scalars: { ID: 'string', DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
