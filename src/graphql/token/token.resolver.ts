/** API token management (admins) and `viewer` (anyone). Resolvers only map arguments to src/services/tokens.ts. */
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { createApiToken, createdByOf, listApiTokens, revokeApiToken, type ApiTokenRecord, type Role } from '../../services/tokens.js';
import type { GraphQLContext } from '../context.js';
import { ApiTokenType, CreateApiTokenInput, CreatedApiTokenType, ViewerType, type ApiTokenRoleValue } from './token.type.js';

@Resolver(() => ApiTokenType)
export class TokenResolver {
  @Authorized<Role>('admin')
  @Query(() => [ApiTokenType], { description: 'API tokens, oldest first (revoked ones too unless `includeRevoked: false`). Admins only.' })
  apiTokens(
    @Arg('includeRevoked', () => Boolean, { defaultValue: true }) includeRevoked: boolean,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ApiTokenRecord[]> {
    return listApiTokens(ctx.db, { includeRevoked });
  }

  @Query(() => ViewerType, { description: 'Who this request is authenticated as (the dashboard checks a token with it).' })
  viewer(@Ctx() ctx: GraphQLContext): ViewerType {
    const p = ctx.principal;
    return p.kind === 'token'
      ? { authenticated: true, name: p.name, role: p.role as ApiTokenRoleValue }
      : { authenticated: false, name: null, role: null };
  }

  @Authorized<Role>('admin')
  @Mutation(() => CreatedApiTokenType, { description: 'Creates a token; the result holds its secret, shown this once. Admins only.' })
  createApiToken(
    @Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<{ token: ApiTokenRecord; secret: string }> {
    return createApiToken(ctx.db, { name: input.name, role: input.role as Role }, createdByOf(ctx.principal));
  }

  @Authorized<Role>('admin')
  @Mutation(() => ApiTokenType, { description: 'Revokes a token: it is refused from its next request on (revoking twice changes nothing). Admins only.' })
  revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ApiTokenRecord> {
    return revokeApiToken(ctx.db, id);
  }
}
