// Redis implementations of hot shared state (scale-out): rate limits, response
// cache (+ cross-replica invalidation), in-flight coalescing, daily spend.
export { createRedis, guard, keyPrefixOf, redisUnavailable, unlinkByPrefix, type CreateRedisOptions, type Redis } from "./client.js";
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from "./rate-limit-store.js";
export { CacheInvalidator, DEFAULT_MAX_VALUE_BYTES, RedisCacheStore, type CacheInvalidatorOptions, type RedisCacheStoreOptions } from "./cache-store.js";
export { RedisSpendCounter, type SpendCounter, type SpendCounterId } from "./spend-counter.js";
export { RedisCoalescer, type RedisCoalescerOptions } from "./coalescer.js";
export { RedisSemanticCacheStore } from "./semantic-cache-store.js";
