/**
 * Builds the executable GraphQL schema from the type-graphql resolver classes.
 *
 * Extension point: a new feature (models, training runs, screening) adds its resolver class to
 * `RESOLVERS` and nothing else; then `npm run schema` re-emits schema/schema.graphql.
 */
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { authChecker } from './auth.js';
import { JobResolver } from './job/job.resolver.js';
import { LabelResolver } from './label/label.resolver.js';
import { MaterialEmbeddingResolver } from './material/material-embedding.resolver.js';
import { MaterialResolver } from './material/material.resolver.js';
import { ModelResolver } from './model/model.resolver.js';
import { trackRowDependencies } from './cache/index.js';
import { SCREENING_RESOLVERS } from './screening/screening.resolver.js';
import { TokenResolver } from './token/token.resolver.js';

/** Every resolver class of the API, in one place. */
export const RESOLVERS: NonEmptyArray<Function> = [MaterialResolver, MaterialEmbeddingResolver, LabelResolver, ModelResolver, ...SCREENING_RESOLVERS, TokenResolver, JobResolver];

export interface BuildIonsieveSchemaOptions {
  /** Resolver classes; defaults to `RESOLVERS`. */
  resolvers?: NonEmptyArray<Function>;
  /** Needed once a resolver declares `@Subscription` (type-graphql's `createPubSub()`). */
  pubSub?: Parameters<typeof buildSchema>[0]['pubSub'];
}

/**
 * Our subscriptions bring their own event source (`@Subscription({ subscribe })`), but type-graphql
 * insists on a PubSub as soon as any subscription exists; this one refuses topic subscriptions.
 */
const NO_TOPICS_PUBSUB: NonNullable<BuildIonsieveSchemaOptions['pubSub']> = {
  publish() {},
  subscribe(topic: string) {
    throw new Error(`topic subscriptions are not configured (topic ${topic})`);
  },
};

export async function buildIonsieveSchema(opts: BuildIonsieveSchemaOptions = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: opts.resolvers ?? RESOLVERS,
    pubSub: opts.pubSub ?? NO_TOPICS_PUBSUB,
    // Arguments are checked by the resolvers (`toPage`) and by the services (BadInputError), not class-validator.
    validate: false,
    // `@Authorized<Role>(…)` on fields (src/graphql/auth.ts).
    authChecker,
  });
  // Material and Label objects tag cached results with their rows (src/graphql/cache/response-cache.ts).
  trackRowDependencies(schema);
  return schema;
}
