// Retrieval tables on PostgreSQL, as versioned migrations (never edit an
// applied one; add a version). Two modules in stratum_schema_migrations:
//  - "retrieval": collections, documents, chunks with a weighted tsvector
//    (title and headings A, body D) and a GIN index, and the vector tombstone log;
//  - "retrieval_vector": applied only when pgvector is available (so a server
//    that gains pgvector later gets it at the next start): the extension and
//    chunk_vectors (an untyped `vector` column; each embedded collection gets its
//    own partial HNSW index on `embedding::vector(D)`, created by setEmbeddingModel).
// Times are ms since the epoch.
import type { PgMigration, PgPool } from "../../data/postgres/index.js";
import { applyMigrations } from "../../data/postgres/index.js";

export const RETRIEVAL_PG_MODULE = "retrieval";
export const RETRIEVAL_PG_VECTOR_MODULE = "retrieval_vector";

export const RETRIEVAL_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "collections, documents, chunks with tsvector",
    sql: `
      CREATE TABLE retrieval_collections (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        embedding_model TEXT,
        dimensions INTEGER,
        created_at BIGINT NOT NULL,
        version BIGINT NOT NULL DEFAULT 0,
        chunk_count BIGINT NOT NULL DEFAULT 0,
        -- Sum of the chunks' lexeme counts: average length for BM25 without a scan.
        lexeme_total BIGINT NOT NULL DEFAULT 0,
        UNIQUE (tenant, name)
      );
      CREATE TABLE retrieval_documents (
        id TEXT PRIMARY KEY,
        collection_id TEXT NOT NULL REFERENCES retrieval_collections (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        mime TEXT NOT NULL,
        metadata JSONB NOT NULL DEFAULT '{}',
        chunk_count INTEGER NOT NULL,
        bytes BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (collection_id, source)
      );
      CREATE TABLE retrieval_chunks (
        id TEXT PRIMARY KEY,
        document_id TEXT NOT NULL REFERENCES retrieval_documents (id) ON DELETE CASCADE,
        collection_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        text TEXT NOT NULL,
        headings JSONB NOT NULL,
        start_offset INTEGER NOT NULL,
        end_offset INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        -- Written with the chunk in the same statement (it needs the document title, so it cannot be a generated column).
        tsv TSVECTOR NOT NULL,
        lexemes INTEGER NOT NULL
      );
      CREATE INDEX retrieval_chunks_document ON retrieval_chunks (document_id, ordinal);
      CREATE INDEX retrieval_chunks_collection ON retrieval_chunks (collection_id);
      CREATE INDEX retrieval_chunks_tsv ON retrieval_chunks USING GIN (tsv);
      -- OR of tsqueries (tsquery || tsquery) as an aggregate.
      CREATE AGGREGATE retrieval_tsquery_or (tsquery) (SFUNC = tsquery_or, STYPE = tsquery);
      -- One sequence orders the vector log: live rows (chunk_vectors.seq) and deletions (below).
      CREATE SEQUENCE retrieval_vector_log_seq;
      CREATE TABLE retrieval_vector_tombstones (
        seq BIGINT PRIMARY KEY DEFAULT nextval('retrieval_vector_log_seq'),
        collection_id TEXT NOT NULL REFERENCES retrieval_collections (id) ON DELETE CASCADE,
        chunk_id TEXT NOT NULL
      );
      CREATE INDEX retrieval_vector_tombstones_collection ON retrieval_vector_tombstones (collection_id, seq);
    `,
  },
];

export const RETRIEVAL_PG_VECTOR_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "pgvector chunk vectors",
    sql: `
      CREATE EXTENSION IF NOT EXISTS vector;
      CREATE TABLE retrieval_chunk_vectors (
        chunk_id TEXT PRIMARY KEY REFERENCES retrieval_chunks (id) ON DELETE CASCADE,
        collection_id TEXT NOT NULL,
        document_id TEXT NOT NULL,
        seq BIGINT NOT NULL DEFAULT nextval('retrieval_vector_log_seq'),
        embedding vector NOT NULL
      );
      CREATE INDEX retrieval_chunk_vectors_log ON retrieval_chunk_vectors (collection_id, seq);
    `,
  },
];

/** Applies the retrieval migrations (and the pgvector ones when the server has pgvector). */
export async function migrateRetrieval(pool: PgPool): Promise<number[]> {
  const applied = await applyMigrations(pool, RETRIEVAL_PG_MODULE, RETRIEVAL_PG_MIGRATIONS);
  const { rows } = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
  if (rows.length > 0) await applyMigrations(pool, RETRIEVAL_PG_VECTOR_MODULE, RETRIEVAL_PG_VECTOR_MIGRATIONS);
  return applied;
}
