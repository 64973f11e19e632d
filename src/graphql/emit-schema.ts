/**
 * Writes the SDL of the built schema to schema/schema.graphql (committed, so API changes show in review).
 * Run with `npm run schema` (the CLI's `schema` command) or `npx tsx src/graphql/emit-schema.ts [path]`.
 * test/graphql/schema.test.ts fails when the committed file differs from `renderSchemaSdl(...)`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildIonsieveSchema } from './build-schema.js';

/** Default location of the committed SDL, relative to the repository root. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));

const HEADER = '# Generated from the type-graphql resolvers by `npm run schema`. Do not edit by hand.\n\n';

/** The exact text of schema/schema.graphql for a schema: sorted, so that declaration order does not matter. */
export function renderSchemaSdl(schema: GraphQLSchema): string {
  return `${HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** Builds the schema and writes its SDL to `path`; returns the absolute path written. */
export async function emitSchema(path: string = SCHEMA_FILE): Promise<string> {
  const target = resolve(path);
  const schema = await buildIonsieveSchema();
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, renderSchemaSdl(schema), 'utf8');
  return target;
}

// Direct run: `npx tsx src/graphql/emit-schema.ts [path]`.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  emitSchema(process.argv[2]).then(
    (written) => console.log(`wrote ${written}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
