/**
 * Runs database tests once per dialect: always on PGlite (in memory), and on PostgreSQL too when
 * DATABASE_URL is set. For PostgreSQL each `describeDatabases` block gets a fresh database
 * (ionsieve_t_<random>) created through the admin URL, with pgvector and the migrations, dropped
 * at the end.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Db, type DialectName, type OpenedDatabase } from '../../src/store/database.js';
import { migrateToLatest, migrations } from '../../src/store/migrate.js';

export const DIALECTS: readonly DialectName[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  readonly db: Db;
  readonly dialect: DialectName;
  /** LISTEN/NOTIFY on this database (src/store/listen.ts). */
  readonly listen?: OpenedDatabase['listen'];
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

export interface PostgresTestDatabase {
  /** URL of the new database (other processes can connect to it). */
  readonly url: string;
  /** Drops it, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database `ionsieve_t_<random>` with pgvector on the server of DATABASE_URL
 * (not migrated). For tests that run ionsieve in child processes and need the URL.
 */
export async function createPostgresTestDatabase(): Promise<PostgresTestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set');
  const name = `ionsieve_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = withDatabaseName(adminUrl, name);
  await adminQuery(url, 'create extension if not exists vector');
  return { url, drop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`) };
}

/**
 * PGlite's initdb takes 5–20 s on a busy machine; loading a tarball of a fresh data directory
 * takes 1–3 s. The tarball is cached in the OS temp folder, keyed by the PGlite version and the
 * migration code, so every test process after the first starts from it.
 */
const templates = new Map<boolean, Promise<Blob>>();

function templateKey(migrated: boolean): string {
  const version = readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8');
  const code = Object.entries(migrations).map(([name, m]) => `${name}\n${String(m.up)}\n${String(m.down)}`);
  return createHash('sha256')
    .update([version, String(migrated), ...code].join('\n'))
    .digest('hex')
    .slice(0, 16);
}

async function makeTemplate(migrated: boolean): Promise<Blob> {
  const file = join(tmpdir(), `ionsieve-pglite-template-${templateKey(migrated)}.tar`);
  try {
    return new Blob([new Uint8Array(await readFile(file))]);
  } catch {
    const opened = await openDatabase({ dataDir: 'memory://' });
    try {
      if (migrated) await migrateToLatest(opened.db);
      const blob = await opened.snapshot!();
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
      await rename(partial, file); // atomic: concurrent test processes never read half a file
      return blob;
    } finally {
      await opened.close();
    }
  }
}

function pgliteTemplate(migrated: boolean): Promise<Blob> {
  let template = templates.get(migrated);
  if (!template) {
    template = makeTemplate(migrated);
    templates.set(migrated, template);
  }
  return template;
}

/**
 * Opens an empty database of `dialect`; `migrate: false` leaves it without tables (for migration
 * tests). close() drops it (PostgreSQL) or discards it (PGlite).
 */
export async function openTestDatabase(dialect: DialectName, opts: { migrate?: boolean } = {}): Promise<OpenedDatabase> {
  let opened: OpenedDatabase;
  let cleanup = async () => {};
  if (dialect === 'pglite') {
    opened = await openDatabase({ dataDir: 'memory://', pgliteSnapshot: await pgliteTemplate(opts.migrate !== false) });
  } else {
    const created = await createPostgresTestDatabase();
    opened = await openDatabase({ databaseUrl: created.url });
    cleanup = created.drop;
  }
  if (opts.migrate !== false) await migrateToLatest(opened.db);
  return {
    db: opened.db,
    dialect,
    listen: opened.listen,
    async close() {
      await opened.close();
      await cleanup();
    },
  };
}

/** Empties every table and restarts id sequences (between tests sharing one database). */
export async function resetDatabase(db: Db): Promise<void> {
  await sql`truncate table embedding, label, material, model, job, api_token restart identity cascade`.execute(db);
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
        return { db: opened.db, dialect, listen: opened.listen };
      });
    });
  }
}
