/**
 * API tokens and the principal a request acts as.
 *
 * A token is `isv_` + base64url(32 random bytes); only its SHA-256 (hex) is stored (the migration says
 * why a fast hash is right for 256-bit secrets). The secret is returned once, by `createApiToken`.
 * Roles are ordered reader < curator < admin: a token may do what its role and every lower role may.
 * Authentication is one unique-index read per request; revocation takes effect on the next request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BadInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors.js';
import {
  countLiveApiTokens,
  findLiveApiTokenByHash,
  findLiveApiTokenByName,
  insertApiTokenRow,
  listApiTokenRows,
  revokeApiTokenRow,
  touchApiTokenRow,
  type ApiTokenSummaryRow,
} from '../store/api-token.repository.js';
import type { ApiTokenRole } from '../store/api-token.table.js';
import { inTransaction, type Db } from '../store/database.js';

export type Role = ApiTokenRole;

/** Lowest first. */
export const ROLES: readonly Role[] = Object.freeze(['reader', 'curator', 'admin']);

export const TOKEN_PREFIX = 'isv_';
const SECRET_BYTES = 32;
/** `isv_` and 43 base64url characters (32 bytes, unpadded). */
const TOKEN_PATTERN = /^isv_[A-Za-z0-9_-]{43}$/;
/** What a token name may hold: it is recorded as `createdBy` and appears in logs. */
const TOKEN_NAME_PATTERN = /^[\p{L}\p{N} ._@:-]{1,128}$/u;
/** `last_used_at` is refreshed at most this often per token. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export interface ApiTokenRecord {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Who a request acts as: a live token, or nobody. */
export type Principal =
  | { readonly kind: 'token'; readonly tokenId: string; readonly name: string; readonly role: Role }
  | { readonly kind: 'anonymous' };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `have` grants what `need` requires. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** What labels, materials and models record as `created_by` for this principal. */
export function createdByOf(principal: Principal): string | undefined {
  return principal.kind === 'token' ? principal.name : undefined;
}

/**
 * Throws UNAUTHENTICATED (no token) or FORBIDDEN (role too low) unless `principal` has `need`;
 * `what` names the operation in the message.
 */
export function requireRole(principal: Principal, need: Role, what: string): void {
  if (principal.kind === 'anonymous') {
    throw new UnauthenticatedError(`${what} needs an API token with role ${need} or higher (Authorization: Bearer <token>)`, {
      requiredRole: need,
    });
  }
  if (!roleAtLeast(principal.role, need)) {
    throw new ForbiddenError(`${what} needs role ${need}; token "${principal.name}" has role ${principal.role}`, {
      requiredRole: need,
      role: principal.role,
    });
  }
}

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** SHA-256 hex of a secret: what `api_token.token_hash` holds. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toRecord(row: ApiTokenSummaryRow): ApiTokenRecord {
  return {
    id: String(row.id),
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

function checkName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (!TOKEN_NAME_PATTERN.test(trimmed)) {
    throw new BadInputError('token name must be 1–128 letters, digits, spaces or . _ @ : -', { field: 'name' });
  }
  return trimmed;
}

function checkRole(role: unknown): Role {
  if (!isRole(role)) throw new BadInputError(`role must be one of ${ROLES.join(', ')} (got ${JSON.stringify(role)})`, { field: 'role' });
  return role;
}

function checkTokenId(id: string): string {
  if (!/^[0-9]{1,18}$/.test(id)) throw new BadInputError(`token id must be a positive integer (got ${JSON.stringify(id)})`, { field: 'id' });
  return id;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

export interface CreateApiTokenInput {
  name: string;
  role: Role;
}

/** Creates a token; the secret is in the result and nowhere else (the table keeps its hash). */
export async function createApiToken(
  db: Db,
  input: CreateApiTokenInput,
  createdBy?: string | null,
): Promise<{ token: ApiTokenRecord; secret: string }> {
  const name = checkName(input.name);
  const role = checkRole(input.role);
  const secret = generateTokenSecret();
  try {
    const row = await inTransaction(db, async (tx) => {
      if (await findLiveApiTokenByName(tx, name)) throw new ConflictError(`a live token is already named "${name}"`, { name });
      return insertApiTokenRow(tx, { name, role, token_hash: hashTokenSecret(secret), created_by: createdBy ?? null });
    });
    return { token: toRecord(row), secret };
  } catch (error) {
    // Two concurrent creations with one name: the partial unique index decides.
    if (isUniqueViolation(error)) throw new ConflictError(`a live token is already named "${name}"`, { name });
    throw error;
  }
}

/** Oldest first; revoked tokens included unless `includeRevoked` is false. */
export async function listApiTokens(db: Db, opts: { includeRevoked?: boolean } = {}): Promise<ApiTokenRecord[]> {
  return (await listApiTokenRows(db, { includeRevoked: opts.includeRevoked ?? true })).map(toRecord);
}

/** Revokes a token (idempotent: a revoked token keeps its first `revokedAt`). NOT_FOUND when there is none. */
export async function revokeApiToken(db: Db, id: string): Promise<ApiTokenRecord> {
  const row = await revokeApiTokenRow(db, checkTokenId(id));
  if (!row) throw new NotFoundError('API token', id);
  return toRecord(row);
}

export function countLiveTokens(db: Db, role?: Role): Promise<number> {
  return countLiveApiTokens(db, role);
}

/**
 * The principal a secret stands for; UNAUTHENTICATED when it is malformed, unknown or revoked (the
 * message does not say which). Refreshes `last_used_at` at most once a minute.
 */
export async function authenticateToken(db: Db, secret: string): Promise<Principal> {
  // A malformed secret cannot match: refuse it without a database round trip.
  if (!TOKEN_PATTERN.test(secret)) throw new UnauthenticatedError('invalid API token');
  // The lookup is by hash of a 256-bit secret through a unique index: timing reveals nothing usable.
  const row = await findLiveApiTokenByHash(db, hashTokenSecret(secret));
  if (!row) throw new UnauthenticatedError('invalid API token (unknown or revoked)');
  const stale = !row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_SECONDS * 1000;
  if (stale) await touchApiTokenRow(db, String(row.id), LAST_USED_RESOLUTION_SECONDS);
  return Object.freeze({ kind: 'token', tokenId: String(row.id), name: row.name, role: row.role });
}

/**
 * The secret in an `Authorization` value: `Bearer <token>`; over graphql-ws (connectionParams) a bare
 * token is accepted too. Undefined when there is none; UNAUTHENTICATED when the value is malformed.
 */
export function bearerSecret(authorization: unknown, opts: { allowBare?: boolean } = {}): string | undefined {
  if (authorization === undefined || authorization === null || authorization === '') return undefined;
  if (typeof authorization !== 'string') throw new UnauthenticatedError('authorization must be a string "Bearer <token>"');
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization.trim());
  if (match) return match[1];
  if (opts.allowBare && /^\S+$/.test(authorization.trim())) return authorization.trim();
  throw new UnauthenticatedError('authorization must be "Bearer <token>"');
}

/**
 * The principal of a request from its authorization value: anonymous without one, else the token's
 * (UNAUTHENTICATED when invalid — even where anonymous access would have been allowed). With
 * `requireAuth`, anonymous requests are refused too.
 */
export async function authenticateRequest(
  db: Db,
  authorization: unknown,
  opts: { requireAuth: boolean; allowBare?: boolean },
): Promise<Principal> {
  const secret = bearerSecret(authorization, { allowBare: opts.allowBare });
  if (secret === undefined) {
    if (opts.requireAuth) {
      throw new UnauthenticatedError('this server requires an API token with role reader or higher (Authorization: Bearer <token>)', {
        requiredRole: 'reader',
      });
    }
    return ANONYMOUS;
  }
  return authenticateToken(db, secret);
}
