// PostgreSQL implementations of the durable stores (issue 7: scale out).
export { createPgPool, pgQuery, withTransaction, assertIdentifier, type PgPool, type PgClient, type PgPoolOptions } from "./pool.js";
export {
  applyMigrations,
  migrateStratum,
  PG_MIGRATIONS,
  PG_MIGRATIONS_MODULE,
  MIGRATION_LOCK_KEY,
  type PgMigration,
  type ApplyMigrationsOptions,
} from "./migrations.js";
export { isPgUnavailable, toStorageError } from "./errors.js";
export { PgKeyStore } from "./key-store.js";
export { PgUsageStore } from "./usage-store.js";
