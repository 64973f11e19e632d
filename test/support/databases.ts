/**
 * Runs database tests once per dialect: always on PGlite (in memory), and on PostgreSQL too when
 * DATABASE_URL is set. For PostgreSQL each `describeDatabases` block gets a fresh database
 * (ionsieve_t_<random>) created through the admin URL, with pgvector and the migrations, dropped
 * at the end.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Db, type DialectName, type OpenedDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export const DIALECTS: readonly DialectName[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  readonly db: Db;
  readonly dialect: DialectName;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Opens an empty database of `dialect`; `migrate: false` leaves it without tables (for migration
 * tests). close() drops it (PostgreSQL) or discards it (PGlite).
 */
export async function openTestDatabase(dialect: DialectName, opts: { migrate?: boolean } = {}): Promise<OpenedDatabase> {
  let opened: OpenedDatabase;
  let cleanup = async () => {};
  if (dialect === 'pglite') {
    opened = await openDatabase({ dataDir: 'memory://' });
  } else {
    const adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) throw new Error('DATABASE_URL is not set');
    const name = `ionsieve_t_${randomBytes(6).toString('hex')}`;
    await adminQuery(adminUrl, `create database ${name}`);
    const url = withDatabaseName(adminUrl, name);
    await adminQuery(url, 'create extension if not exists vector');
    opened = await openDatabase({ databaseUrl: url });
    cleanup = () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
  }
  if (opts.migrate !== false) await migrateToLatest(opened.db);
  return {
    db: opened.db,
    dialect,
    async close() {
      await opened.close();
      await cleanup();
    },
  };
}

/** Empties every table and restarts id sequences (between tests sharing one database). */
export async function resetDatabase(db: Db): Promise<void> {
  await sql`truncate table embedding, label, material, model, job restart identity cascade`.execute(db);
}

/**
 * Declares `describe('<title> [<dialect>]')` once per dialect. `body` gets an accessor valid inside
 * tests and hooks (the database opens in a `before` hook).
 */
export function describeDatabases(
  title: string,
  body: (database: () => TestDatabase) => void,
  opts: { migrate?: boolean } = {},
): void {
  for (const dialect of DIALECTS) {
    describe(`${title} [${dialect}]`, () => {
      let opened: OpenedDatabase | undefined;
      before(async () => {
        opened = await openTestDatabase(dialect, opts);
      });
      after(async () => {
        await opened?.close();
      });
      body(() => {
        if (!opened) throw new Error('database not open yet (use it inside a test or hook)');
        return { db: opened.db, dialect };
      });
    });
  }
}
