// Data layer: state behind small async interfaces.
export type * from "./types.js";
export { openDatabase, type SqliteDb } from "./sqlite/database.js";
export { SqliteKeyStore } from "./sqlite/key-store.js";
export { SqliteUsageStore } from "./sqlite/usage-store.js";
export { SqliteCacheStore } from "./sqlite/cache-store.js";
export { MemoryCacheStore } from "./memory/cache-store.js";
export { MemorySemanticCacheStore } from "./memory/semantic-cache-store.js";
export { SqliteSemanticCacheStore } from "./sqlite/semantic-cache-store.js";
export { MemoryRateLimitStore } from "./memory/rate-limit-store.js";
export {
  createPgPool,
  applyMigrations,
  migrateStratum,
  PG_MIGRATIONS,
  PG_MIGRATIONS_MODULE,
  PgKeyStore,
  PgUsageStore,
  isPgUnavailable,
  toStorageError,
  type PgPool,
  type PgPoolOptions,
  type PgMigration,
  type ApplyMigrationsOptions,
} from "./postgres/index.js";
export {
  createRedis,
  RedisRateLimitStore,
  RedisCacheStore,
  RedisCoalescer,
  RedisSemanticCacheStore,
  RedisSpendCounter,
  CacheInvalidator,
  type Redis,
  type SpendCounter,
  type SpendCounterId,
} from "./redis/index.js";
