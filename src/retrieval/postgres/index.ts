// Retrieval on PostgreSQL (tsvector BM25-style ranking; pgvector when installed).
export { PgRetrievalStore, PGVECTOR_MISSING_MESSAGE, queryWords, type PgRetrievalStoreOptions } from "./retrieval-store.js";
export {
  migrateRetrieval,
  RETRIEVAL_PG_MIGRATIONS,
  RETRIEVAL_PG_MODULE,
  RETRIEVAL_PG_VECTOR_MIGRATIONS,
  RETRIEVAL_PG_VECTOR_MODULE,
} from "./migrations.js";
export { filterToPgSql } from "./filter.js";
export { isQueryable, migrateWith, pgliteQueryable, pgPoolQueryable, type PGliteLike, type Queryable, type SqlRunner } from "./queryable.js";
