// Retrieval: collections of documents split into chunks, searched lexically
// (BM25) and, when an embedding route is configured, densely (ANN), fused with
// reciprocal rank fusion. Everything is scoped by tenant: a collection belongs
// to exactly one tenant and every read names the tenant.

export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

/**
 * Metadata filter: every listed field must match. A bare value means equality;
 * `{ in: [...] }` any of; `{ gte, lte, gt, lt }` ranges (numbers or ISO strings).
 */
export type MetadataFilter = Record<
  string,
  MetadataValue | { in: MetadataValue[] } | { gte?: MetadataValue; lte?: MetadataValue; gt?: MetadataValue; lt?: MetadataValue }
>;

export interface Collection {
  id: string;
  tenant: string;
  name: string;
  /** Embedding model alias used for this collection's vectors, if any (fixed at first embed). */
  embeddingModel: string | null;
  dimensions: number | null;
  createdAt: number;
  /** Bumped on every change to the collection's documents (lets in-memory indexes catch up). */
  version: number;
}

export interface DocumentRecord {
  id: string;
  collectionId: string;
  /** Where it came from: a path relative to the ingested root, a URL, or a client-given name. Unique per collection. */
  source: string;
  title: string;
  /** sha256 of the raw bytes: unchanged content is not re-processed. */
  contentHash: string;
  mime: string;
  metadata: Metadata;
  chunkCount: number;
  bytes: number;
  createdAt: number;
  updatedAt: number;
}

/** A chunk as produced by chunkDocument, before it is stored. */
export interface ChunkInput {
  /** Position in the document, 0-based. */
  ordinal: number;
  text: string;
  /** Heading trail the chunk sits under, outermost first (e.g. ["Install", "Linux"]). */
  headings: string[];
  /** Character offsets of the chunk in the document's extracted text [start, end). */
  start: number;
  end: number;
  /** Token count with the real tokenizer (o200k). */
  tokens: number;
}

export interface ChunkRecord extends ChunkInput {
  /** Stable id: `${documentId}:${ordinal}`. */
  id: string;
  documentId: string;
  collectionId: string;
}

export interface NewDocument {
  source: string;
  title: string;
  contentHash: string;
  mime: string;
  metadata: Metadata;
  bytes: number;
  chunks: ChunkInput[];
  /** One vector per chunk, when the collection is embedded. */
  vectors?: Float32Array[];
}

export interface LexicalHit {
  chunkId: string;
  score: number;
}

/** How often each analyzed query term occurs in a collection (for IDF-based confidence). */
export interface QueryTermStats {
  /** Chunks in the collection. */
  chunks: number;
  /** Distinct analyzed query terms with their document (chunk) frequency; df 0 = absent. */
  terms: Array<{ term: string; df: number }>;
}

/** Durable store of collections, documents, chunks, the lexical index and vectors. */
export interface RetrievalStore {
  ensureCollection(tenant: string, name: string): Promise<Collection>;
  getCollection(tenant: string, name: string): Promise<Collection | undefined>;
  listCollections(tenant: string): Promise<Collection[]>;
  /** Returns false when it did not exist. */
  deleteCollection(tenant: string, name: string): Promise<boolean>;
  setEmbeddingModel(collectionId: string, model: string, dimensions: number): Promise<void>;

  listDocuments(collectionId: string): Promise<DocumentRecord[]>;
  getDocument(collectionId: string, documentId: string): Promise<DocumentRecord | undefined>;
  findDocumentBySource(collectionId: string, source: string): Promise<DocumentRecord | undefined>;
  /** Insert or replace (by source) a document with all its chunks (and vectors), atomically. */
  putDocument(collectionId: string, doc: NewDocument): Promise<DocumentRecord>;
  /** Several putDocument in one transaction (all or none); optional, for bulk ingest. */
  putDocuments?(collectionId: string, docs: readonly NewDocument[]): Promise<DocumentRecord[]>;
  deleteDocument(collectionId: string, documentId: string): Promise<boolean>;

  getChunks(ids: readonly string[]): Promise<ChunkRecord[]>;
  /** BM25 over chunk text (and headings/title), best first. */
  lexicalSearch(collectionId: string, query: string, k: number, filter?: MetadataFilter): Promise<LexicalHit[]>;
  /** Per-term document frequencies of a query's analyzed terms; optional (confidence falls back to term overlap). */
  queryTermStats?(collectionId: string, query: string): Promise<QueryTermStats>;
  /**
   * Vector changes after a cursor, for incremental in-memory ANN indexes. `rowId` is a
   * position in the collection's vector log (monotonic); `deletedChunkIds` are deletions
   * logged after the cursor. Apply deletions first, then rows: a row still listed is the
   * current vector of its chunk. The next cursor is `nextRowId` (the last log position seen).
   */
  vectorsSince(collectionId: string, afterRowId: number): Promise<{ rows: Array<{ rowId: number; chunkId: string; vector: Float32Array }>; deletedChunkIds: string[]; nextRowId?: number }>;
  /**
   * Nearest chunks to `vector` by cosine similarity, best first, metadata filter
   * applied before the top k; optional. A store that has it (PostgreSQL with
   * pgvector) searches in the database and the Retriever keeps no in-memory index.
   */
  denseSearch?(collectionId: string, vector: Float32Array, k: number, filter?: MetadataFilter): Promise<Array<{ chunkId: string; score: number /* cosine similarity */ }>>;
  close?(): Promise<void>;
}

export type SearchMode = "hybrid" | "lexical" | "dense";

export interface SearchRequest {
  tenant: string;
  collection: string;
  query: string;
  /** Results wanted (default 5). */
  k?: number;
  mode?: SearchMode;
  filter?: MetadataFilter;
  /** Maximal marginal relevance re-ranking; lambda 1 = pure relevance (default 0.7), false = off. */
  mmr?: { lambda: number } | false;
}

export interface SearchHit {
  chunk: ChunkRecord;
  document: Pick<DocumentRecord, "id" | "source" | "title" | "metadata">;
  /** Fused score (higher is better). */
  score: number;
  lexicalScore?: number;
  denseScore?: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** How likely the hits answer the query, in [0, 1]; pipelines act on it (e.g. "not in the documents"). */
  confidence: number;
  mode: SearchMode;
  tookMs: number;
}

/** Turns texts into vectors (an embedding route behind a micro-batcher). */
export interface Embedder {
  readonly model: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}
