// Retrieval: collections of chunked documents searched by BM25 and ANN, fused.
export type * from "./types.js";
export { SqliteRetrievalStore, type SqliteRetrievalStoreOptions } from "./sqlite/retrieval-store.js";
export { applyRetrievalSchema, RETRIEVAL_SCHEMA_VERSION } from "./sqlite/schema.js";
export {
  PgRetrievalStore,
  PGVECTOR_MISSING_MESSAGE,
  migrateRetrieval,
  RETRIEVAL_PG_MIGRATIONS,
  RETRIEVAL_PG_VECTOR_MIGRATIONS,
  pgliteQueryable,
  pgPoolQueryable,
  type PgRetrievalStoreOptions,
  type PGliteLike,
  type Queryable,
} from "./postgres/index.js";
export { Retriever, type RetrieverOptions } from "./retriever.js";
export { EmbedBatcher, type EmbedBatcherOptions, type EmbedFn } from "./embed-batcher.js";
export { VectorIndex, type VectorIndexOptions } from "./vector-index.js";
export { analyze, analyzeUnique } from "./analyzer.js";
export { reciprocalRankFusion, RRF_K } from "./fusion.js";
export { mmr, jaccard, cosine } from "./mmr.js";
export { lexicalConfidence, denseConfidence, blendConfidence } from "./confidence.js";
export { filterToSql, matchesFilter, InvalidFilterError } from "./metadata-filter.js";
