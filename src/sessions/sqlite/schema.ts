// Session and memory tables. Applied idempotently when a store is built (kept
// out of the shared migration list so this module owns its schema).
import type { SqliteDb } from "../../data/index.js";

const SESSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    summary_text TEXT,
    summary_covers_through INTEGER,
    PRIMARY KEY (tenant, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS sessions_tenant_updated ON sessions (tenant, updated_at DESC);
  CREATE TABLE IF NOT EXISTS session_messages (
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, session_id, seq),
    FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
`;

// The FTS index is an external-content table over memory_facts, kept in step by
// triggers, so a fact's text is stored once. Porter stemming over unicode61.
const MEMORY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS memory_facts (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS memory_facts_owner ON memory_facts (tenant, user_id, created_at);
  CREATE VIRTUAL TABLE IF NOT EXISTS memory_facts_fts USING fts5 (
    text, tags, content = 'memory_facts', content_rowid = 'rid', tokenize = 'porter unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER IF NOT EXISTS memory_facts_ai AFTER INSERT ON memory_facts BEGIN
    INSERT INTO memory_facts_fts (rowid, text, tags) VALUES (new.rid, new.text, new.tags);
  END;
  CREATE TRIGGER IF NOT EXISTS memory_facts_ad AFTER DELETE ON memory_facts BEGIN
    INSERT INTO memory_facts_fts (memory_facts_fts, rowid, text, tags) VALUES ('delete', old.rid, old.text, old.tags);
  END;
`;

export function applySessionSchema(db: SqliteDb): void {
  db.exec(SESSION_SCHEMA);
}

export function applyMemorySchema(db: SqliteDb): void {
  db.exec(MEMORY_SCHEMA);
}
