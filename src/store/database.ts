/**
 * The one Database interface, and opening a database on either dialect.
 */
import { Kysely, type Transaction } from 'kysely';
import { createPGlite, createPGliteDialect, createPostgresDialect } from './dialect.js';
import type { ApiTokenTable } from './api-token.table.js';
import type { EmbeddingTable } from './embedding.table.js';
import type { JobTable } from './job.table.js';
import { createPGliteListen, createPostgresListener, type Listen } from './listen.js';
import type { LabelTable } from './label.table.js';
import type { MaterialTable } from './material.table.js';
import type { ModelTable } from './model.table.js';

export interface Database {
  material: MaterialTable;
  label: LabelTable;
  model: ModelTable;
  embedding: EmbeddingTable;
  job: JobTable;
  api_token: ApiTokenTable;
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
}

/**
 * Opens PostgreSQL when `databaseUrl` is set, else embedded PGlite. Does not migrate
 * (see migrateToLatest in migrate.ts). A PGlite data directory must be used by one process at a time.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  if (opts.databaseUrl) {
    const { dialect } = createPostgresDialect(opts.databaseUrl, opts.poolSize);
    const db = new Kysely<Database>({ dialect });
    // Fail here rather than on the first request when the server is unreachable.
    await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    const listener = createPostgresListener(opts.sessionDatabaseUrl ?? opts.databaseUrl);
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
