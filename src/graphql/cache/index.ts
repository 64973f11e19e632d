/** The API's response cache (response-cache.ts explains why it is exact), its tags and its plugin. */
export { CacheDependencies, dependsOn, notCacheable, trackRowDependencies, type CacheTracked } from './dependencies.js';
export { planOperation, type CachePlan } from './plan.js';
export { CACHE_STATUS_HEADER, responseCachePlugin } from './plugin.js';
export { ResponseCache, type ResponseCacheOptions, type ResponseCacheStats } from './response-cache.js';
export { FIELD_RULES, fastReferenceTags, screeningTags, similarityTags } from './tags.js';
