/** The Apollo plugin that answers cacheable operations from the ResponseCache and stores their results. */
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../context.js';
import { CacheDependencies } from './dependencies.js';
import type { ResponseCache } from './response-cache.js';
// ---------------------------------------------------------------------------------------------
// Apollo plugin

export const CACHE_STATUS_HEADER = 'x-ionsieve-cache';

/**
 * Serves cacheable queries from `cache` and stores their results. Sets `x-ionsieve-cache: hit` or
 * `miss` on cacheable operations.
 */
export function responseCachePlugin(cache: ResponseCache): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      let key: string | undefined;
      let from = 0;
      let lead: ((result: Record<string, unknown> | null) => void) | undefined;
      let mutation = false;
      return {
        async responseForOperation(rc) {
          if (!cache.enabled || !rc.operation) return null;
          if (rc.operation.operation === 'mutation') mutation = true;
          const plan = cache.plan(rc.schema, rc.document, rc.operation);
          if (!plan.cacheable) return null;
          let position: number;
          try {
            position = await cache.sync();
          } catch {
            // The database is away: execute normally, which answers with the proper error.
            return null;
          }
          const k = `${rc.queryHash}\u0000${rc.operationName ?? ''}\u0000${JSON.stringify(rc.request.variables ?? {})}`;
          let hit = cache.get(k);
          if (!hit) {
            // The same operation already executing from the same feed position gives this request's answer too.
            const running = cache.inFlight(k, position);
            if (running) hit = (await running) ?? undefined;
          }
          rc.response.http.headers.set(CACHE_STATUS_HEADER, hit ? 'hit' : 'miss');
          if (hit) return { http: rc.response.http, body: { kind: 'single', singleResult: hit } };
          key = k;
          from = position;
          lead = cache.lead(k, position);
          const deps = new CacheDependencies(plan.tags);
          rc.contextValue.cacheDependencies = deps;
          // On the loaders: Apollo may execute with a shallow copy of the context, which shares them.
          rc.contextValue.loaders.sharedReads = cache.readsFrom(position, deps);
          return null;
        },
        async willSendResponse(rc) {
          // Before the client hears of its write, so its next read (here) reads the feed first.
          if (mutation) cache.markDirty();
          if (key === undefined) return;
          const deps = rc.contextValue.cacheDependencies;
          const result = rc.response.body.kind === 'single' ? rc.response.body.singleResult : undefined;
          const ok = deps?.cacheable && result && !result.errors?.length;
          lead?.(ok ? (result as Record<string, unknown>) : null);
          if (ok) cache.set(key, result as Record<string, unknown>, deps.tags, from);
        },
      };
    },
  };
}
