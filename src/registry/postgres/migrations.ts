// Registry tables in PostgreSQL: versioned migrations of the "registry"
// module (append-only; applied under the shared advisory lock).
import { applyMigrations, type PgMigration, type PgPool } from "../../data/postgres/index.js";

export const REGISTRY_PG_MODULE = "registry";

export const REGISTRY_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "registry versions, aliases and eval links",
    sql: `
      CREATE TABLE registry_versions (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        parent_version INTEGER,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        note TEXT,
        spec JSONB NOT NULL,
        PRIMARY KEY (kind, name, version),
        UNIQUE (kind, name, hash)
      );
      CREATE TABLE registry_aliases (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (kind, name, alias)
      );
      CREATE TABLE registry_eval_links (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        linked_at BIGINT NOT NULL,
        PRIMARY KEY (kind, name, version, run_id)
      );
    `,
  },
];

export function migrateRegistry(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, REGISTRY_PG_MODULE, REGISTRY_PG_MIGRATIONS);
}
