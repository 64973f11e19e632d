/** Queries on `api_token` (no logic). `db` may be a transaction. Never selects `token_hash` for callers. */
import { sql } from 'kysely';
import type { ApiTokenRole, ApiTokenRow, NewApiTokenRow } from './api-token.table.js';
import type { Db } from './database.js';

/** Every column but the hash. */
const PUBLIC_COLUMNS = ['id', 'name', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at'] as const;

export type ApiTokenSummaryRow = Omit<ApiTokenRow, 'token_hash'>;

export function insertApiTokenRow(db: Db, row: NewApiTokenRow): Promise<ApiTokenSummaryRow> {
  return db.insertInto('api_token').values(row).returning(PUBLIC_COLUMNS).executeTakeFirstOrThrow();
}

/** Oldest first. */
export function listApiTokenRows(db: Db, filter: { includeRevoked?: boolean } = {}): Promise<ApiTokenSummaryRow[]> {
  let query = db.selectFrom('api_token').select(PUBLIC_COLUMNS);
  if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
  return query.orderBy('id').execute();
}

export function findApiTokenRow(db: Db, id: string): Promise<ApiTokenSummaryRow | undefined> {
  return db.selectFrom('api_token').select(PUBLIC_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** The live (not revoked) token with this hash. */
export function findLiveApiTokenByHash(db: Db, tokenHash: string): Promise<ApiTokenSummaryRow | undefined> {
  return db
    .selectFrom('api_token')
    .select(PUBLIC_COLUMNS)
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export function findLiveApiTokenByName(db: Db, name: string): Promise<ApiTokenSummaryRow | undefined> {
  return db.selectFrom('api_token').select(PUBLIC_COLUMNS).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
}

/** Sets `revoked_at` unless already set; returns the row either way (undefined: no such token). */
export async function revokeApiTokenRow(db: Db, id: string): Promise<ApiTokenSummaryRow | undefined> {
  const revoked = await db
    .updateTable('api_token')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(PUBLIC_COLUMNS)
    .executeTakeFirst();
  return revoked ?? findApiTokenRow(db, id);
}

/** Stamps `last_used_at` when it is unset or older than `staleSeconds` (one write per token per interval, not per request). */
export async function touchApiTokenRow(db: Db, id: string, staleSeconds: number): Promise<void> {
  await db
    .updateTable('api_token')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - make_interval(secs => ${staleSeconds})`)]))
    .execute();
}

export async function countLiveApiTokens(db: Db, role?: ApiTokenRole): Promise<number> {
  let query = db.selectFrom('api_token').select((eb) => eb.fn.countAll<string>().as('n')).where('revoked_at', 'is', null);
  if (role) query = query.where('role', '=', role);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}
