// The retrieval schema, kept apart from src/data's migrations and applied
// idempotently when a SqliteRetrievalStore is constructed. Each collection
// gets its own FTS5 table (created with the collection) so BM25 statistics
// (N, document frequencies, average length) are per collection — one tenant's
// documents never change another's scores — and a MATCH only walks the
// postings of that collection.
import type { SqliteDb } from "../../data/index.js";

export const RETRIEVAL_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS retrieval_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS retrieval_collections (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  embedding_model TEXT,
  dimensions INTEGER,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tenant, name)
);

CREATE TABLE IF NOT EXISTS retrieval_documents (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  collection_id TEXT NOT NULL REFERENCES retrieval_collections(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  title TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  mime TEXT NOT NULL,
  metadata TEXT NOT NULL,
  chunk_count INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (collection_id, source)
);

-- rowid doubles as the FTS5 rowid of the chunk in its collection's FTS table.
CREATE TABLE IF NOT EXISTS retrieval_chunks (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  document_id TEXT NOT NULL REFERENCES retrieval_documents(id) ON DELETE CASCADE,
  collection_id TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  text TEXT NOT NULL,
  headings TEXT NOT NULL,
  start_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retrieval_chunks_document ON retrieval_chunks (document_id);

-- A log of vector changes per collection: a row with a vector is a live vector,
-- a row with NULL is a deletion (tombstone). Deleting a chunk removes its live
-- row and appends a tombstone, so "rows since seq S" is exactly what an
-- in-memory ANN index that has applied everything up to S must apply.
CREATE TABLE IF NOT EXISTS retrieval_vectors (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id TEXT NOT NULL,
  chunk_id TEXT NOT NULL,
  vector BLOB
);
CREATE INDEX IF NOT EXISTS retrieval_vectors_collection ON retrieval_vectors (collection_id, seq);
CREATE INDEX IF NOT EXISTS retrieval_vectors_chunk ON retrieval_vectors (chunk_id) WHERE vector IS NOT NULL;
`;

export function applyRetrievalSchema(db: SqliteDb): void {
  db.transaction(() => {
    db.exec(SCHEMA);
    db.prepare("INSERT OR IGNORE INTO retrieval_meta (key, value) VALUES ('retrieval_schema_version', ?)").run(
      String(RETRIEVAL_SCHEMA_VERSION),
    );
  }).immediate();
}

/** Name of a collection's FTS5 table (seq is an integer we generated, never user text). */
export const ftsTable = (seq: number): string => `retrieval_fts_${Math.trunc(seq)}`;
export const ftsVocabTable = (seq: number): string => `retrieval_fts_${Math.trunc(seq)}_vocab`;

/**
 * Contentless (the text lives in retrieval_chunks) with contentless_delete so
 * rows can be replaced. Columns hold pre-analyzed terms (see analyzer.ts), so
 * unicode61 only splits on spaces. The vocab table gives per-term document
 * frequencies for query planning and confidence.
 */
export function createCollectionFts(db: SqliteDb, seq: number): void {
  db.exec(
    `CREATE VIRTUAL TABLE IF NOT EXISTS ${ftsTable(seq)} USING fts5(text, headings, title, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');` +
      `CREATE VIRTUAL TABLE IF NOT EXISTS ${ftsVocabTable(seq)} USING fts5vocab(${ftsTable(seq)}, 'row');`,
  );
}

export function dropCollectionFts(db: SqliteDb, seq: number): void {
  db.exec(`DROP TABLE IF EXISTS ${ftsVocabTable(seq)}; DROP TABLE IF EXISTS ${ftsTable(seq)};`);
}
