// Registry tables in the SQLite file, applied idempotently when the store is
// built (this module owns its schema).
import type { SqliteDb } from "../../data/index.js";

export const REGISTRY_SQLITE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS registry_versions (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_version INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    note TEXT,
    spec TEXT NOT NULL,
    PRIMARY KEY (kind, name, version),
    UNIQUE (kind, name, hash)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS registry_aliases (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name, alias)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS registry_eval_links (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name, version, run_id)
  ) WITHOUT ROWID;
`;

export function applyRegistrySchema(db: SqliteDb): void {
  db.exec(REGISTRY_SQLITE_SCHEMA);
}
