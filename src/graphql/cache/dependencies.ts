/** What one operation read while it executes: static tags of its fields, row tags added on the way. */
import { isObjectType, type GraphQLSchema } from 'graphql';

/** The part of the GraphQL context the cache reads and writes (src/graphql/context.ts). */
export interface CacheTracked {
  /** Set by the response cache while it records what a cacheable operation reads. */
  cacheDependencies?: CacheDependencies;
}
/** Collects what one operation read while it executes. */
export class CacheDependencies {
  readonly tags = new Set<string>();
  cacheable = true;
  constructor(staticTags: readonly string[]) {
    for (const tag of staticTags) this.tags.add(tag);
  }
}

/** Records that the operation being executed read `tags` (no-op when it is not being cached). */
export function dependsOn(ctx: CacheTracked, ...tags: string[]): void {
  const deps = ctx.cacheDependencies;
  if (deps) for (const tag of tags) deps.tags.add(tag);
}

/** Marks the operation being executed as not cacheable (e.g. an uploaded structure). */
export function notCacheable(ctx: CacheTracked): void {
  if (ctx.cacheDependencies) ctx.cacheDependencies.cacheable = false;
}

/**
 * Row tags from the objects a result contains: graphql-js calls `isTypeOf` on every object value
 * of a type that has one, with the context, so every Material (and Label) in a result — whichever
 * resolver produced it — tags the result with its rows. Returns true: the types are concrete.
 */
export function trackRowDependencies(schema: GraphQLSchema): void {
  const material = schema.getType('Material');
  const label = schema.getType('Label');
  if (isObjectType(material)) {
    material.isTypeOf = (value: { id?: unknown }, ctx: CacheTracked) => {
      const deps = ctx?.cacheDependencies;
      if (deps) {
        deps.tags.add(`material:${String(value.id)}`);
        deps.tags.add(`label:${String(value.id)}`);
      }
      return true;
    };
  }
  if (isObjectType(label)) {
    label.isTypeOf = (value: { materialId?: unknown }, ctx: CacheTracked) => {
      const deps = ctx?.cacheDependencies;
      if (deps) deps.tags.add(`label:${String(value.materialId)}`);
      return true;
    };
  }
}

