/**
 * `ionsieve token create|list|revoke`: API tokens (README "Access control"), straight on the database,
 * so the first admin token can be made where no token exists yet. The secret goes to stdout once;
 * logs go to stderr.
 *
 *   ionsieve token create --role curator --name alice      # prints isv_… once
 *   ionsieve token list [--json]
 *   ionsieve token revoke 3
 *
 * Also `ensureLocalAdminToken`, which `ionsieve start` runs on the embedded database.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Config } from '../config.js';
import { ConflictError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ApiTokenRecord, Role } from '../services/tokens.js';
import type { Db } from '../store/database.js';
import { withCliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';

/** `created_by` of tokens made on the command line (they have no principal). */
export const CLI_CREATOR = 'cli';
const ROLE_CHOICES: Role[] = ['reader', 'curator', 'admin'];

interface CreateOptions extends DatabaseCommandOptions {
  role: Role;
  name: string;
}

interface ListOptions extends DatabaseCommandOptions {
  json?: boolean;
  live?: boolean;
}

/** One aligned text row per token, for `token list`. */
export function renderTokenTable(tokens: readonly ApiTokenRecord[]): string {
  const when = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
  const rows = [
    ['ID', 'NAME', 'ROLE', 'CREATED', 'CREATED BY', 'LAST USED', 'REVOKED'],
    ...tokens.map((t) => [t.id, t.name, t.role, when(t.createdAt), t.createdBy ?? '-', when(t.lastUsedAt), when(t.revokedAt)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

export function registerTokenCommand(program: Command): Command {
  const token = program.command('token').description('API tokens: create (the secret is printed once), list, revoke');

  withDatabaseOptions(
    token
      .command('create')
      .description('create an API token and print its secret (once) on stdout')
      .addOption(new Option('--role <role>', 'reader, curator or admin').choices(ROLE_CHOICES).makeOptionMandatory())
      .requiredOption('--name <name>', 'who uses it; recorded as createdBy on what the token writes'),
  ).action(async (opts: CreateOptions) => {
    await withCliContext(opts, async ({ db, logger }) => {
      const [{ migrateToLatest }, { createApiToken }] = await Promise.all([import('../store/migrate.js'), import('../services/tokens.js')]);
      await migrateToLatest(db);
      const { token: created, secret } = await createApiToken(db, { name: opts.name, role: opts.role }, CLI_CREATOR);
      logger.info({ tokenId: created.id, name: created.name, role: created.role }, 'API token created; the secret is printed once, store it now');
      process.stdout.write(`${secret}\n`);
    });
  });

  withDatabaseOptions(
    token
      .command('list')
      .description('list API tokens (never their secrets)')
      .option('--live', 'only tokens not revoked')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ListOptions) => {
    await withCliContext(opts, async ({ db }) => {
      const { listApiTokens } = await import('../services/tokens.js');
      const tokens = await listApiTokens(db, { includeRevoked: !opts.live });
      process.stdout.write(opts.json ? tokens.map((t) => `${JSON.stringify(t)}\n`).join('') : `${renderTokenTable(tokens)}\n`);
    });
  });

  withDatabaseOptions(token.command('revoke').description('revoke an API token: refused from its next request on').argument('<id>', 'token id (see `token list`)')).action(
    async (id: string, opts: DatabaseCommandOptions) => {
      await withCliContext(opts, async ({ db, logger }) => {
        const { revokeApiToken } = await import('../services/tokens.js');
        const revoked = await revokeApiToken(db, id);
        logger.info({ tokenId: revoked.id, name: revoked.name, revokedAt: revoked.revokedAt }, 'API token revoked');
      });
    },
  );
  return token;
}

/** Where `ionsieve start` keeps the embedded default's admin token: beside the PGlite directory. */
export function localAdminTokenPath(dataDir: string): string {
  return join(dirname(resolve(dataDir)), 'admin-token');
}

const LOCAL_ADMIN_NAME = 'local admin';

/**
 * The embedded default (`ionsieve start` on PGlite): when no live admin token exists, creates one and
 * writes its secret to `localAdminTokenPath` (mode 0600), logging the path, never the secret. On
 * PostgreSQL nothing is created (deployments make their tokens with `ionsieve token create`); a
 * missing admin token is only logged. Returns the path written, if any.
 */
export async function ensureLocalAdminToken(ctx: { db: Db; config: Config; logger: Logger; dialect: string }): Promise<string | undefined> {
  const { countLiveTokens, createApiToken } = await import('../services/tokens.js');
  if ((await countLiveTokens(ctx.db, 'admin')) > 0) return undefined;
  if (ctx.dialect !== 'pglite' || ctx.config.dataDir.startsWith('memory://')) {
    ctx.logger.warn('no admin API token exists: create one with `ionsieve token create --role admin --name <you>`');
    return undefined;
  }
  const path = localAdminTokenPath(ctx.config.dataDir);
  let created: Awaited<ReturnType<typeof createApiToken>>;
  try {
    created = await createApiToken(ctx.db, { name: LOCAL_ADMIN_NAME, role: 'admin' }, 'ionsieve start');
  } catch (error) {
    // A live non-admin token already has the name.
    if (!(error instanceof ConflictError)) throw error;
    created = await createApiToken(ctx.db, { name: `${LOCAL_ADMIN_NAME} ${Date.now()}`, role: 'admin' }, 'ionsieve start');
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${created.secret}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its mode otherwise.
  await chmod(path, 0o600);
  ctx.logger.info({ path, tokenId: created.token.id, name: created.token.name }, 'created an admin API token for the dashboard and CLI; its secret is in this file');
  return path;
}
