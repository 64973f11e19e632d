/**
 * Kysely dialects for the two supported backends: embedded PGlite (+ pgvector) and PostgreSQL.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  PGliteDialect,
  PostgresDialect,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';

/** Postgres type OID of int8/bigint. */
const INT8_OID = 20;

/**
 * PGlite is one connection. Kysely's PGlite driver hands that connection to every caller and sends
 * any query issued while a transaction is open *into* that transaction, so two concurrent requests
 * (a GraphQL server) could interleave. This driver wraps it with a FIFO mutex held from
 * acquireConnection to releaseConnection (a single query, or a whole transaction).
 */
class SerializedDriver implements Driver {
  readonly #inner: Driver;
  #tail: Promise<void> = Promise.resolve();
  #unlock: (() => void) | undefined;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(options?: Parameters<Driver['init']>[0]): Promise<void> {
    return this.#inner.init(options);
  }

  async acquireConnection(options?: Parameters<Driver['acquireConnection']>[0]): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let unlock!: () => void;
    this.#tail = new Promise<void>((resolve) => (unlock = resolve));
    await previous;
    this.#unlock = unlock;
    try {
      return await this.#inner.acquireConnection(options);
    } catch (error) {
      this.#releaseLock();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection, options?: Parameters<Driver['releaseConnection']>[1]) {
    try {
      await this.#inner.releaseConnection(connection, options);
    } finally {
      this.#releaseLock();
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    return this.#inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection) {
    return this.#inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection) {
    return this.#inner.rollbackTransaction(connection);
  }
  savepoint(...args: Parameters<NonNullable<Driver['savepoint']>>) {
    return this.#inner.savepoint!(...args);
  }
  rollbackToSavepoint(...args: Parameters<NonNullable<Driver['rollbackToSavepoint']>>) {
    return this.#inner.rollbackToSavepoint!(...args);
  }
  releaseSavepoint(...args: Parameters<NonNullable<Driver['releaseSavepoint']>>) {
    return this.#inner.releaseSavepoint!(...args);
  }
  destroy(options?: Parameters<Driver['destroy']>[0]) {
    return this.#inner.destroy(options);
  }

  #releaseLock() {
    const unlock = this.#unlock;
    this.#unlock = undefined;
    unlock?.();
  }
}

class SerializedPGliteDialect extends PGliteDialect {
  override createDriver(): Driver {
    return new SerializedDriver(super.createDriver());
  }
}

/**
 * Opens (creating if missing) a PGlite database with pgvector loaded.
 * `dataDir` is a folder path, or 'memory://' for a throw-away in-memory database.
 * `loadDataDir` starts a new database from a `dumpDataDir()` tarball (much faster than initdb).
 * int8 is read as a decimal string, as node-postgres does, so ids look the same on both dialects.
 */
export async function createPGlite(dataDir: string, loadDataDir?: Blob): Promise<PGlite> {
  if (!dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  return PGlite.create({
    dataDir,
    extensions: { vector },
    parsers: { [INT8_OID]: (value: string) => value },
    ...(loadDataDir ? { loadDataDir } : {}),
  });
}

export function createPGliteDialect(pglite: PGlite): Dialect {
  return new SerializedPGliteDialect({ pglite });
}

/** How long a request waits for a connection (a free pool slot or a new connection) before failing. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface PostgresDialectOptions {
  /** Most connections the pool opens (default 10; config IONSIEVE_DB_POOL_SIZE). */
  poolSize?: number;
  /** Connection errors outside any query (an idle or checked-out connection lost). */
  onConnectionError?: (error: Error, where: 'idle' | 'in use') => void;
}

/**
 * A pg.Pool that survives the server going away:
 * - node-postgres emits 'error' on the pool when an idle connection dies (server restart, network)
 *   and on a client when it dies between two queries of a checked-out connection (inside a
 *   transaction); an 'error' event without a listener kills the process, so both are handled.
 *   A broken client is dropped from the pool on release, and the next query opens a new connection.
 * - connecting gives up after CONNECT_TIMEOUT_MS instead of waiting forever on an unreachable host,
 *   and TCP keep-alive notices a silently dropped connection.
 */
export function createPostgresDialect(databaseUrl: string, opts: PostgresDialectOptions = {}): { dialect: Dialect; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  pool.on('error', (error) => opts.onConnectionError?.(error, 'idle'));
  pool.on('connect', (client) => {
    // pg-pool listens on idle clients only; this one covers a client while it is checked out.
    client.on('error', (error) => {
      if (client.listenerCount('error') === 1) opts.onConnectionError?.(error, 'in use');
    });
  });
  return { dialect: new PostgresDialect({ pool }), pool };
}
