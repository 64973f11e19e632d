/**
 * The one Database interface, and opening a database on either dialect.
 */
import { Kysely, type Transaction } from 'kysely';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createPGlite, createPGliteDialect, createPostgresDialect } from './dialect.js';
import type { ApiTokenTable } from './api-token.table.js';
import type { EmbeddingStageTable, EmbeddingTable } from './embedding.table.js';
import type { JobTable } from './job.table.js';
import { createPGliteListen, createPostgresListener, type Listen } from './listen.js';
import type { LabelTable } from './label.table.js';
import type { MaterialTable } from './material.table.js';
import type { ModelTable } from './model.table.js';
import type {
  ScreeningEventTable,
  ScreeningHeadMetaTable,
  ScreeningHeadTable,
  ScreeningReferenceTable,
  ScreeningStateTable,
} from './screening.table.js';

export interface Database {
  material: MaterialTable;
  label: LabelTable;
  model: ModelTable;
  embedding: EmbeddingTable;
  embedding_stage: EmbeddingStageTable;
  job: JobTable;
  api_token: ApiTokenTable;
  screening_state: ScreeningStateTable;
  screening_reference: ScreeningReferenceTable;
  screening_event: ScreeningEventTable;
  screening_head_meta: ScreeningHeadMetaTable;
  screening_head: ScreeningHeadTable;
}

/** A database handle; a `Transaction<Database>` is accepted wherever a Db is. */
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export type DialectName = 'pglite' | 'postgres';

export interface OpenedDatabase {
  db: Db;
  dialect: DialectName;
  close(): Promise<void>;
  /** LISTEN/NOTIFY subscriptions (src/store/listen.ts); PostgreSQL opens its connection on first use. */
  listen?: Listen;
  /** PGlite only: a tarball of the data directory, for `pgliteSnapshot`. */
  snapshot?(): Promise<Blob>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when set, PGlite is not used. */
  databaseUrl?: string;
  /** PostgreSQL only: size of the connection pool (default 10); LISTEN uses one more connection. */
  poolSize?: number;
  /** PostgreSQL only: URL of the LISTEN connection, which needs a session (default `databaseUrl`). */
  sessionDatabaseUrl?: string;
  /** PGlite data directory, created if missing; 'memory://' for tests. Default '.ionsieve/pgdata'. */
  dataDir?: string;
  /** PGlite only: initialise a new data directory from a `dumpDataDir()` tarball (test templates). */
  pgliteSnapshot?: Blob;
  /** PostgreSQL only: where lost connections and LISTEN reconnects are reported (they are survived). */
  logger?: Logger;
}

/** The database options a process's Config names (every entry point opens its database this way). */
export function databaseOptionsOf(
  config: Pick<Config, 'databaseUrl' | 'sessionDatabaseUrl' | 'dataDir' | 'dbPoolSize'>,
  logger: Logger,
): OpenDatabaseOptions {
  return { databaseUrl: config.databaseUrl, sessionDatabaseUrl: config.sessionDatabaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, logger };
}

/**
 * Opens PostgreSQL when `databaseUrl` is set, else embedded PGlite. Does not migrate
 * (see migrateToLatest in migrate.ts). A PGlite data directory must be used by one process at a time.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  if (opts.databaseUrl) {
    const log = opts.logger;
    const { dialect } = createPostgresDialect(opts.databaseUrl, {
      poolSize: opts.poolSize,
      onConnectionError: (err, where) => log?.warn({ err: err.message, where }, 'database connection lost; the next query reconnects'),
    });
    const db = new Kysely<Database>({ dialect });
    // Fail here rather than on the first request when the server is unreachable.
    await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    const listener = createPostgresListener(opts.sessionDatabaseUrl ?? opts.databaseUrl, {
      onError: (err) => log?.warn({ err: err.message }, 'LISTEN connection failed; reconnecting'),
      onReconnect: () => log?.info('LISTEN connection restored'),
    });
    return {
      db,
      dialect: 'postgres',
      listen: listener.listen,
      async close() {
        await listener.close();
        await db.destroy();
      },
    };
  }
  // Durability: a commit resolves after PGlite's WAL write reached the operating system (NODEFS
  // writes through to the host file with write(2); PostgreSQL's synchronous_commit is on), so a
  // killed process loses no acknowledged write: the next open replays the WAL
  // (test/faults/pglite-kill.test.ts). PGlite runs with fsync off and Emscripten's NODEFS has no
  // fsync, so a machine crash or power loss may lose the last commits; deployments that need that
  // use PostgreSQL. `relaxedDurability` is left off; it would change nothing here: it only stops
  // waiting for the after-query sync of the browser file systems (IndexedDB, OPFS), which NodeFS lacks.
  const pglite = await createPGlite(opts.dataDir ?? '.ionsieve/pgdata', opts.pgliteSnapshot);
  const db = new Kysely<Database>({ dialect: createPGliteDialect(pglite) });
  return {
    db,
    dialect: 'pglite',
    listen: createPGliteListen(pglite),
    snapshot: () => pglite.dumpDataDir('none'),
    async close() {
      await db.destroy();
      // Kysely closes PGlite only if it ever ran a query.
      if (!pglite.closed) await pglite.close();
    },
  };
}

/**
 * Runs `fn` in a transaction, or directly in the caller's transaction when `db` already is one
 * (Kysely has no nested transactions).
 */
export function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Tx);
  return db.transaction().execute(fn);
}
