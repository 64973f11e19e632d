/**
 * Access control for the GraphQL API (README "Access control").
 *
 * - Every request is authenticated once, before execution (`authenticateOperation`): no token is
 *   anonymous (refused when `config.requireAuth`), a bad token is UNAUTHENTICATED even for open reads.
 * - Fields declare the least role they need with type-graphql's `@Authorized<Role>('curator')`;
 *   `authChecker` enforces it before the resolver runs, so a denied mutation writes nothing.
 */
import type { AuthCheckerFn } from 'type-graphql';
import type { Config } from '../config.js';
import { DomainError } from '../errors.js';
import { authenticateRequest, requireRole, ROLES, type Principal, type Role } from '../services/tokens.js';
import type { Db } from '../store/database.js';
import type { GraphQLContext } from './context.js';
import { isDatabaseUnavailable } from '../store/unavailable.js';
import { requestErrorOf, unavailableRequestError } from './format-error.js';

/** type-graphql's auth checker: throws UNAUTHENTICATED / FORBIDDEN naming the role the field needs. */
export const authChecker: AuthCheckerFn<GraphQLContext, Role> = ({ context, info }, roles) => {
  // `@Authorized()` without a role: any token. With several roles, the lowest suffices.
  const need = roles.reduce<Role>((lowest, role) => (ROLES.indexOf(role) < ROLES.indexOf(lowest) ? role : lowest), roles[0] ?? 'reader');
  requireRole(context.principal, need, `${info.parentType.name}.${info.fieldName}`);
  return true;
};

/**
 * The principal of an operation from its authorization value (`Authorization` header, or graphql-ws
 * `connectionParams.authorization`). An authentication failure is thrown as a GraphQL request error
 * (HTTP 401), the database being unreachable as DATABASE_UNAVAILABLE (HTTP 503); anything else propagates.
 */
export async function authenticateOperation(
  db: Db,
  config: Pick<Config, 'requireAuth'>,
  authorization: unknown,
  opts: { allowBare?: boolean } = {},
): Promise<Principal> {
  try {
    return await authenticateRequest(db, authorization, { requireAuth: config.requireAuth, allowBare: opts.allowBare });
  } catch (error) {
    if (error instanceof DomainError) throw requestErrorOf(error);
    if (isDatabaseUnavailable(error)) throw unavailableRequestError(error as Error);
    throw error;
  }
}
