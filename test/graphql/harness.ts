/**
 * Shared set-up for the GraphQL tests: one Apollo server per file (schema built once), operations run
 * with `executeOperation` against a migrated test database (PGlite, plus PostgreSQL when DATABASE_URL
 * is set), a query-counting wrapper around the database, and a logger whose lines can be inspected.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { ApolloServer } from '@apollo/server';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createApolloServer, createContext } from '../../src/server.js';
import type { Principal, Role } from '../../src/services/tokens.js';
import type { Db } from '../../src/store/database.js';

export const testConfig: Config = loadConfig({});

/** A fixture file of test/fixtures/graphql as text. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/graphql/${name}`, import.meta.url), 'utf8');
}

export interface CapturedLogger {
  logger: Logger;
  /** Parsed JSON log lines written so far. */
  lines: Record<string, unknown>[];
}

export function captureLogger(level = 'info'): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

export interface GraphQLResult<TData = any> {
  data?: TData | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface ExecuteOptions {
  db: Db;
  logger?: Logger;
  requestId?: string;
  /** Default `TEST_ADMIN`, so tests about other things may write; `ANONYMOUS` for a request without a token. */
  principal?: Principal;
}

/** A principal as if authenticated with a token of this name and role (no token row needed). */
export function tokenPrincipal(name: string, role: Role = 'admin'): Principal {
  return { kind: 'token', tokenId: '0', name, role };
}

export const TEST_ADMIN: Principal = tokenPrincipal('test', 'admin');

export async function execute<TData = any>(
  server: ApolloServer<any>,
  query: string,
  variables: Record<string, unknown> | undefined,
  opts: ExecuteOptions,
): Promise<GraphQLResult<TData>> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const response = await server.executeOperation<TData>(
    { query, variables },
    { contextValue: createContext({ db: opts.db, config: testConfig, logger, requestId: opts.requestId, principal: opts.principal ?? TEST_ADMIN }) },
  );
  assert.equal(response.body.kind, 'single');
  if (response.body.kind !== 'single') throw new Error('unreachable');
  // A JSON round trip, as over HTTP: graphql-js builds null-prototype objects, which deepStrictEqual
  // would tell apart from plain literals.
  return JSON.parse(JSON.stringify(response.body.singleResult)) as GraphQLResult<TData>;
}

/** The data of a result that must have no errors (the errors are shown when it has). */
export function dataOf<TData>(result: GraphQLResult<TData>): TData {
  assert.equal(result.errors, undefined, `unexpected errors: ${JSON.stringify(result.errors, null, 2)}`);
  assert.ok(result.data);
  return result.data;
}

/** The single error of a result, which must have no data for `field` (a failed root field). */
export function onlyError(result: GraphQLResult): { message: string; extensions?: Record<string, unknown> } {
  assert.ok(result.errors, `expected an error, got data ${JSON.stringify(result.data)}`);
  assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  return result.errors[0]!;
}

/** Counts SQL statements executed through a wrapped Kysely instance (one `transformResult` per statement). */
export class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.count++;
    return args.result;
  }
}

export function countingDb(db: Db): { db: Db; counter: QueryCounter } {
  const counter = new QueryCounter();
  return { db: db.withPlugin(counter), counter };
}

let sharedServer: Promise<ApolloServer<any>> | undefined;

/** One Apollo server for the whole test file (building the schema takes a moment). */
export function testServer(logger?: Logger): Promise<ApolloServer<any>> {
  if (logger) return createApolloServer({ logger });
  sharedServer ??= createApolloServer({ logger: pino({ level: 'silent' }) });
  return sharedServer;
}

export const MATERIAL_COUNT = /* GraphQL */ `
  query Count($filter: MaterialFilter) {
    materials(filter: $filter, first: 1) {
      totalCount
    }
  }
`;

export async function materialCount(server: ApolloServer<any>, db: Db, filter?: Record<string, unknown>): Promise<number> {
  const data = dataOf(await execute<{ materials: { totalCount: number } }>(server, MATERIAL_COUNT, { filter }, { db }));
  return data.materials.totalCount;
}
