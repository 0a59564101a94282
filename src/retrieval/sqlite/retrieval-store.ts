// RetrievalStore on SQLite: plain tables for collections/documents/chunks, a
// per-collection FTS5 table of pre-analyzed terms for BM25, and a vector log
// (Float32 BLOBs) that in-memory ANN indexes replay. Every read goes to SQLite,
// so another process writing the same file (a CLI ingest) is seen at once.
import type { Statement } from "better-sqlite3";
import { randomUUID } from "node:crypto";
import type { SqliteDb } from "../../data/index.js";
import { analyzeUnique, indexText } from "../analyzer.js";
import { matchExpression, quoteTerm } from "../fts-query.js";
import { filterToSql } from "../metadata-filter.js";
import type {
  ChunkRecord,
  Collection,
  DocumentRecord,
  LexicalHit,
  Metadata,
  MetadataFilter,
  NewDocument,
  QueryTermStats,
  RetrievalStore,
} from "../types.js";
import { applyRetrievalSchema, createCollectionFts, dropCollectionFts, ftsTable, ftsVocabTable } from "./schema.js";

/** Below this many chunks every query term is searched (it is fast anyway). */
const SMALL_COLLECTION = 5000;
const DF_CACHE_MAX = 50_000;
/** Distinct query terms looked at, in query order (a 10k-character query must not cost 10k look-ups). */
const MAX_ANALYZED_QUERY_TERMS = 64;
/** Rows scored for a query with no informative term (see plans()). */
const SAMPLE_ROWS = 4000;
/** Filtered rows for the same (each costs a join and json_extract, and a selective filter means a long scan). */
const FILTERED_SAMPLE_ROWS = 500;

export interface SqliteRetrievalStoreOptions {
  /** FTS5 bm25() column weights (text, headings, title). */
  weights?: { text: number; headings: number; title: number };
  /** At most this many query terms are searched, the most selective first (long OR queries are slow). */
  maxQueryTerms?: number;
  /**
   * SQLite mmap_size for this connection (default 1 GiB; 0 leaves it alone). FTS5
   * doclist reads through mmap instead of read() syscalls roughly halve the
   * tail latency of large-collection queries. Address space, not memory.
   */
  mmapBytes?: number;
  /** Postings (sum of term document frequencies) a first, reduced query may touch on large collections (see plans()). */
  postingBudget?: number;
}

interface CollectionRow {
  seq: number;
  id: string;
  tenant: string;
  name: string;
  embedding_model: string | null;
  dimensions: number | null;
  created_at: number;
  version: number;
  chunk_count: number;
}
interface DocumentRow {
  id: string;
  collection_id: string;
  source: string;
  title: string;
  content_hash: string;
  mime: string;
  metadata: string;
  chunk_count: number;
  bytes: number;
  created_at: number;
  updated_at: number;
}
interface ChunkRow {
  id: string;
  document_id: string;
  collection_id: string;
  ordinal: number;
  text: string;
  headings: string;
  start_offset: number;
  end_offset: number;
  tokens: number;
}

const toCollection = (r: CollectionRow): Collection => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  embeddingModel: r.embedding_model,
  dimensions: r.dimensions,
  createdAt: r.created_at,
  version: r.version,
});
const toDocument = (r: DocumentRow): DocumentRecord => ({
  id: r.id,
  collectionId: r.collection_id,
  source: r.source,
  title: r.title,
  contentHash: r.content_hash,
  mime: r.mime,
  metadata: JSON.parse(r.metadata) as Metadata,
  chunkCount: r.chunk_count,
  bytes: r.bytes,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toChunk = (r: ChunkRow): ChunkRecord => ({
  id: r.id,
  documentId: r.document_id,
  collectionId: r.collection_id,
  ordinal: r.ordinal,
  text: r.text,
  headings: JSON.parse(r.headings) as string[],
  start: r.start_offset,
  end: r.end_offset,
  tokens: r.tokens,
});

const toBlob = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
// Copy: a Buffer from SQLite need not be 4-byte aligned.
const fromBlob = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export class SqliteRetrievalStore implements RetrievalStore {
  private readonly weights: { text: number; headings: number; title: number };
  private readonly maxQueryTerms: number;
  private readonly postingBudget: number;
  private readonly s;
  /** Per-collection statements (keyed by collection seq; a recreated collection gets a new seq). */
  private readonly ftsStatements = new Map<number, ReturnType<SqliteRetrievalStore["prepareFts"]>>();

  constructor(
    private readonly db: SqliteDb,
    opts: SqliteRetrievalStoreOptions = {},
  ) {
    this.weights = opts.weights ?? { text: 1, headings: 2, title: 2 };
    this.maxQueryTerms = opts.maxQueryTerms ?? 32;
    this.postingBudget = opts.postingBudget ?? 4000;
    applyRetrievalSchema(db);
    const mmap = opts.mmapBytes ?? 2 ** 30;
    if (mmap > 0 && !db.memory && Number(db.pragma("mmap_size", { simple: true })) < mmap) db.pragma(`mmap_size = ${Math.floor(mmap)}`);
    this.s = {
      collectionByName: db.prepare("SELECT * FROM retrieval_collections WHERE tenant = ? AND name = ?"),
      collectionById: db.prepare("SELECT * FROM retrieval_collections WHERE id = ?"),
      collectionsOf: db.prepare("SELECT * FROM retrieval_collections WHERE tenant = ? ORDER BY name"),
      insertCollection: db.prepare(
        "INSERT INTO retrieval_collections (id, tenant, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, name) DO NOTHING",
      ),
      deleteCollection: db.prepare("DELETE FROM retrieval_collections WHERE id = ?"),
      deleteCollectionVectors: db.prepare("DELETE FROM retrieval_vectors WHERE collection_id = ?"),
      setEmbedding: db.prepare("UPDATE retrieval_collections SET embedding_model = ?, dimensions = ?, version = version + 1 WHERE id = ?"),
      bump: db.prepare("UPDATE retrieval_collections SET version = version + 1, chunk_count = chunk_count + ? WHERE id = ?"),
      documents: db.prepare("SELECT * FROM retrieval_documents WHERE collection_id = ? ORDER BY source"),
      document: db.prepare("SELECT * FROM retrieval_documents WHERE collection_id = ? AND id = ?"),
      documentBySource: db.prepare("SELECT * FROM retrieval_documents WHERE collection_id = ? AND source = ?"),
      insertDocument: db.prepare(
        `INSERT INTO retrieval_documents (id, collection_id, source, title, content_hash, mime, metadata, chunk_count, bytes, created_at, updated_at)
         VALUES (@id, @collectionId, @source, @title, @contentHash, @mime, @metadata, @chunkCount, @bytes, @createdAt, @updatedAt)`,
      ),
      updateDocument: db.prepare(
        `UPDATE retrieval_documents SET title = @title, content_hash = @contentHash, mime = @mime, metadata = @metadata,
         chunk_count = @chunkCount, bytes = @bytes, updated_at = @updatedAt WHERE id = @id`,
      ),
      deleteDocument: db.prepare("DELETE FROM retrieval_documents WHERE id = ?"),
      chunkRowsOf: db.prepare("SELECT rowid, id FROM retrieval_chunks WHERE document_id = ?"),
      deleteChunksOf: db.prepare("DELETE FROM retrieval_chunks WHERE document_id = ?"),
      insertChunk: db.prepare(
        `INSERT INTO retrieval_chunks (id, document_id, collection_id, ordinal, text, headings, start_offset, end_offset, tokens)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      chunks: db.prepare("SELECT * FROM retrieval_chunks WHERE id IN (SELECT value FROM json_each(?))"),
      liveVector: db.prepare("DELETE FROM retrieval_vectors WHERE chunk_id = ? AND vector IS NOT NULL RETURNING seq"),
      insertVector: db.prepare("INSERT INTO retrieval_vectors (collection_id, chunk_id, vector) VALUES (?, ?, ?)"),
      vectorsSince: db.prepare("SELECT seq, chunk_id, vector FROM retrieval_vectors WHERE collection_id = ? AND seq > ? ORDER BY seq"),
    };
  }

  private prepareFts(seq: number) {
    const fts = ftsTable(seq);
    return {
      insert: this.db.prepare(`INSERT INTO ${fts} (rowid, text, headings, title) VALUES (?, ?, ?, ?)`),
      delete: this.db.prepare(`DELETE FROM ${fts} WHERE rowid = ?`),
      df: this.db.prepare(`SELECT doc FROM ${ftsVocabTable(seq)} WHERE term = ?`),
    };
  }
  private fts(seq: number) {
    let st = this.ftsStatements.get(seq);
    if (!st) {
      createCollectionFts(this.db, seq); // no-op normally; recovers a collection whose FTS table is missing
      st = this.prepareFts(seq);
      this.ftsStatements.set(seq, st);
    }
    return st;
  }

  private collectionRow(collectionId: string): CollectionRow | undefined {
    return this.s.collectionById.get(collectionId) as CollectionRow | undefined;
  }
  private requireCollection(collectionId: string): CollectionRow {
    const row = this.collectionRow(collectionId);
    if (!row) throw new Error(`unknown collection ${collectionId}`);
    return row;
  }

  async ensureCollection(tenant: string, name: string): Promise<Collection> {
    const row = this.db.transaction(() => {
      this.s.insertCollection.run(randomUUID(), tenant, name, Date.now());
      const r = this.s.collectionByName.get(tenant, name) as CollectionRow;
      createCollectionFts(this.db, r.seq);
      return r;
    }).immediate();
    return toCollection(row);
  }
  async getCollection(tenant: string, name: string): Promise<Collection | undefined> {
    const row = this.s.collectionByName.get(tenant, name) as CollectionRow | undefined;
    return row && toCollection(row);
  }
  /** By id, for callers that already hold an id (the Retriever never uses this: it resolves by tenant + name). */
  async getCollectionById(collectionId: string): Promise<Collection | undefined> {
    const row = this.collectionRow(collectionId);
    return row && toCollection(row);
  }
  async listCollections(tenant: string): Promise<Collection[]> {
    return (this.s.collectionsOf.all(tenant) as CollectionRow[]).map(toCollection);
  }
  async deleteCollection(tenant: string, name: string): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.s.collectionByName.get(tenant, name) as CollectionRow | undefined;
      if (!row) return false;
      this.s.deleteCollection.run(row.id); // documents and chunks cascade
      this.s.deleteCollectionVectors.run(row.id);
      dropCollectionFts(this.db, row.seq);
      this.ftsStatements.delete(row.seq);
      return true;
    }).immediate();
  }
  async setEmbeddingModel(collectionId: string, model: string, dimensions: number): Promise<void> {
    const row = this.requireCollection(collectionId);
    if (row.embedding_model === model && row.dimensions === dimensions) return;
    if (row.dimensions !== null && row.dimensions !== dimensions) {
      const hasVectors = this.db.prepare("SELECT 1 FROM retrieval_vectors WHERE collection_id = ? AND vector IS NOT NULL LIMIT 1").get(collectionId);
      if (hasVectors) throw new Error(`collection ${row.name} holds ${row.dimensions}-d vectors; cannot switch to ${dimensions}-d`);
    }
    this.s.setEmbedding.run(model, dimensions, collectionId);
  }

  async listDocuments(collectionId: string): Promise<DocumentRecord[]> {
    return (this.s.documents.all(collectionId) as DocumentRow[]).map(toDocument);
  }
  async getDocument(collectionId: string, documentId: string): Promise<DocumentRecord | undefined> {
    const row = this.s.document.get(collectionId, documentId) as DocumentRow | undefined;
    return row && toDocument(row);
  }
  async findDocumentBySource(collectionId: string, source: string): Promise<DocumentRecord | undefined> {
    const row = this.s.documentBySource.get(collectionId, source) as DocumentRow | undefined;
    return row && toDocument(row);
  }

  async putDocument(collectionId: string, doc: NewDocument): Promise<DocumentRecord> {
    return (await this.putDocuments(collectionId, [doc]))[0]!;
  }

  /**
   * Several documents in one transaction: all or none. Much faster for bulk
   * ingest (each commit costs a WAL write and a new FTS5 segment).
   */
  async putDocuments(collectionId: string, docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    for (const doc of docs) {
      if (doc.vectors && doc.vectors.length !== doc.chunks.length) {
        throw new Error(`putDocument ${doc.source}: ${doc.vectors.length} vectors for ${doc.chunks.length} chunks`);
      }
    }
    // Analysis is CPU work: do it before taking the write lock.
    const prepared = docs.map((doc) => ({
      doc,
      title: indexText(doc.title),
      analyzed: doc.chunks.map((c) => ({ text: indexText(c.text), headings: indexText(c.headings.join(" ")) })),
    }));
    const rows = this.db.transaction(() => {
      const col = this.requireCollection(collectionId);
      const fts = this.fts(col.seq);
      let delta = 0;
      const out = prepared.map(({ doc, title, analyzed }) => {
        if (doc.vectors?.length) {
          if (col.dimensions === null) throw new Error(`collection ${col.name} has no embedding model: call setEmbeddingModel first`);
          for (const v of doc.vectors) {
            if (v.length !== col.dimensions) throw new Error(`vector of ${v.length} dimensions in a ${col.dimensions}-d collection`);
          }
        }
        const now = Date.now();
        const existing = this.s.documentBySource.get(collectionId, doc.source) as DocumentRow | undefined;
        const id = existing?.id ?? randomUUID();
        if (existing) delta -= this.removeChunks(collectionId, fts, existing.id);
        const record = {
          id,
          collectionId,
          source: doc.source,
          title: doc.title,
          contentHash: doc.contentHash,
          mime: doc.mime,
          metadata: JSON.stringify(doc.metadata ?? {}),
          chunkCount: doc.chunks.length,
          bytes: doc.bytes,
          createdAt: existing?.created_at ?? now,
          updatedAt: now,
        };
        if (existing) this.s.updateDocument.run(record);
        else this.s.insertDocument.run(record);
        doc.chunks.forEach((c, i) => {
          const chunkId = `${id}:${c.ordinal}`;
          const info = this.s.insertChunk.run(chunkId, id, collectionId, c.ordinal, c.text, JSON.stringify(c.headings), c.start, c.end, c.tokens);
          const a = analyzed[i]!;
          fts.insert.run(info.lastInsertRowid, a.text, a.headings, title);
          const v = doc.vectors?.[i];
          if (v) this.s.insertVector.run(collectionId, chunkId, toBlob(v));
        });
        delta += doc.chunks.length;
        return this.s.document.get(collectionId, id) as DocumentRow;
      });
      this.s.bump.run(delta, collectionId);
      return out;
    }).immediate();
    return rows.map(toDocument);
  }

  /** Deletes a document's chunks, their FTS rows, and logs tombstones for their vectors. Returns the count. */
  private removeChunks(collectionId: string, fts: ReturnType<SqliteRetrievalStore["prepareFts"]>, documentId: string): number {
    const rows = this.s.chunkRowsOf.all(documentId) as Array<{ rowid: number; id: string }>;
    for (const r of rows) {
      fts.delete.run(r.rowid);
      if (this.s.liveVector.all(r.id).length > 0) this.s.insertVector.run(collectionId, r.id, null);
    }
    this.s.deleteChunksOf.run(documentId);
    return rows.length;
  }

  async deleteDocument(collectionId: string, documentId: string): Promise<boolean> {
    return this.db.transaction(() => {
      const col = this.collectionRow(collectionId);
      const existing = col && (this.s.document.get(collectionId, documentId) as DocumentRow | undefined);
      if (!col || !existing) return false;
      const removed = this.removeChunks(collectionId, this.fts(col.seq), documentId);
      this.s.deleteDocument.run(documentId);
      this.s.bump.run(-removed, collectionId);
      return true;
    }).immediate();
  }

  async getChunks(ids: readonly string[]): Promise<ChunkRecord[]> {
    if (ids.length === 0) return [];
    const byId = new Map((this.s.chunks.all(JSON.stringify(ids)) as ChunkRow[]).map((r) => [r.id, toChunk(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async queryTermStats(collectionId: string, query: string): Promise<QueryTermStats> {
    const col = this.collectionRow(collectionId);
    if (!col) return { chunks: 0, terms: [] };
    return { chunks: col.chunk_count, terms: this.termFrequencies(col, analyzeUnique(query)) };
  }

  /**
   * fts5vocab counts a term's documents by walking its whole doclist (~1.5 ms
   * for a term in 100k chunks), so frequencies are cached per collection and
   * dropped whenever the collection version moves (any write, by any process).
   */
  private readonly dfCache = new Map<number, { version: number; df: Map<string, number> }>();
  private termFrequencies(col: CollectionRow, terms: string[]): Array<{ term: string; df: number }> {
    const fts = this.fts(col.seq);
    let cache = this.dfCache.get(col.seq);
    if (!cache || cache.version !== col.version || cache.df.size > DF_CACHE_MAX) {
      cache = { version: col.version, df: new Map() };
      this.dfCache.set(col.seq, cache);
    }
    const df = cache.df;
    return terms.slice(0, MAX_ANALYZED_QUERY_TERMS).map((term) => {
      let n = df.get(term);
      if (n === undefined) {
        n = (fts.df.get(term) as { doc: number } | undefined)?.doc ?? 0;
        df.set(term, n);
      }
      return { term, df: n };
    });
  }

  /**
   * The MATCH expressions to run, cheapest first; rows are collected across
   * them until k are found. FTS5 scores every row an OR query matches, so on a
   * large collection a Zipfian query's common terms cost the most and add the
   * least. On collections of SMALL_COLLECTION chunks or more:
   *  - terms in more than half the chunks are dropped when others remain: FTS5's
   *    BM25 gives them IDF 1e-6, so no score changes;
   *  - when the rest exceed the posting budget, the rarest terms that fit it run
   *    first, then an AND of the rarest three (the documents with all of them are
   *    the BM25 top among the rest), then the full OR.
   * Terms are capped at maxQueryTerms, the most selective kept.
   */
  private plans(col: CollectionRow, query: string, filtered = false): Array<{ match: string; sample?: boolean }> {
    const present = this.termFrequencies(col, analyzeUnique(query)).filter((t) => t.df > 0);
    present.sort((a, b) => a.df - b.df);
    const large = col.chunk_count >= SMALL_COLLECTION;
    const informative = large ? present.filter((t, i) => i === 0 || t.df <= col.chunk_count / 2) : present;
    const all = informative.slice(0, this.maxQueryTerms);
    const full = matchExpression(all.map((t) => t.term));
    if (!full) return [];
    const postings = all.reduce((n, t) => n + t.df, 0);
    if (!large || postings <= this.postingBudget) return [{ match: full }];
    // Nothing selective (even the rarest term is in over a tenth of the chunks and
    // well over the budget): rank a bounded sample of its matches rather than
    // score a large part of the collection — the query's latency stays bounded,
    // at the price of a coarser ranking for such rare, all-common-words queries.
    if (all[0]!.df > Math.max(2 * this.postingBudget, col.chunk_count / 10)) return [{ match: full, sample: true }];
    const plans: Array<{ match: string; sample?: boolean }> = [];
    let used = 0;
    const fit: string[] = [];
    for (const t of all) {
      if (used + t.df > this.postingBudget) break;
      used += t.df;
      fit.push(t.term);
    }
    if (fit.length > 0) plans.push({ match: matchExpression(fit)! });
    if (all.length >= 2) plans.push({ match: all.slice(0, 3).map((t) => quoteTerm(t.term)).join(" AND ") });
    // Under a filter the full OR also pays a join and json_extract per row: bound it.
    plans.push({ match: full, sample: filtered });
    return plans;
  }

  async lexicalSearch(collectionId: string, query: string, k: number, filter?: MetadataFilter): Promise<LexicalHit[]> {
    const where = filterToSql(filter, "d.metadata"); // validates the filter even when nothing would match
    const col = this.collectionRow(collectionId);
    if (!col || k <= 0) return [];
    const filtered = !!filter && Object.keys(filter).length > 0;
    const fts = ftsTable(col.seq);
    const { text, headings, title } = this.weights;
    // Filters sit in the same statement as MATCH + ORDER BY + LIMIT, so the top k are the top k of the filtered set.
    const sql = filtered
      ? `SELECT c.id AS id, bm25(${fts}, ?, ?, ?) AS s FROM ${fts}
           JOIN retrieval_chunks c ON c.rowid = ${fts}.rowid
           JOIN retrieval_documents d ON d.id = c.document_id
         WHERE ${fts} MATCH ? AND ${where.sql} ORDER BY s LIMIT ?`
      : `SELECT c.id AS id, f.s AS s FROM
           (SELECT rowid, bm25(${fts}, ?, ?, ?) AS s FROM ${fts} WHERE ${fts} MATCH ? ORDER BY s LIMIT ?) f
           JOIN retrieval_chunks c ON c.rowid = f.rowid ORDER BY f.s`;
    const sampled = filtered
      ? `SELECT id, s FROM (SELECT c.id AS id, bm25(${fts}, ?, ?, ?) AS s FROM ${fts}
           JOIN retrieval_chunks c ON c.rowid = ${fts}.rowid
           JOIN retrieval_documents d ON d.id = c.document_id
         WHERE ${fts} MATCH ? AND ${where.sql} LIMIT ${FILTERED_SAMPLE_ROWS}) ORDER BY s LIMIT ?`
      : `SELECT c.id AS id, f.s AS s FROM
           (SELECT rowid, bm25(${fts}, ?, ?, ?) AS s FROM ${fts} WHERE ${fts} MATCH ? LIMIT ${SAMPLE_ROWS}) f
           JOIN retrieval_chunks c ON c.rowid = f.rowid ORDER BY f.s LIMIT ?`;
    const hits: LexicalHit[] = [];
    const seen = new Set<string>();
    for (const { match, sample } of this.plans(col, query, filtered)) {
      const params: unknown[] = filtered ? [text, headings, title, match, ...where.params, k] : [text, headings, title, match, k];
      const stmt = this.statement(sample ? sampled : sql);
      // Rows of a later (broader) plan rank after the earlier ones: scores are kept non-increasing.
      const floor = hits.length ? hits[hits.length - 1]!.score : Infinity;
      for (const r of stmt.all(...params) as Array<{ id: string; s: number }>) {
        if (hits.length >= k || seen.has(r.id)) continue;
        seen.add(r.id);
        hits.push({ chunkId: r.id, score: Math.min(-r.s, floor) });
      }
      if (hits.length >= k) break;
    }
    return hits;
  }

  /** Search SQL varies by collection and filter shape only (values are bound), so a small cache covers it. */
  private readonly searchStatements = new Map<string, Statement<unknown[]>>();
  private statement(sql: string): Statement<unknown[]> {
    let st = this.searchStatements.get(sql);
    if (!st) {
      if (this.searchStatements.size >= 256) this.searchStatements.clear();
      st = this.db.prepare<unknown[]>(sql);
      this.searchStatements.set(sql, st);
    }
    return st;
  }

  async vectorsSince(collectionId: string, afterRowId: number) {
    const rows = this.s.vectorsSince.all(collectionId, afterRowId) as Array<{ seq: number; chunk_id: string; vector: Buffer | null }>;
    const out: Array<{ rowId: number; chunkId: string; vector: Float32Array }> = [];
    const deletedChunkIds: string[] = [];
    for (const r of rows) {
      if (r.vector) out.push({ rowId: r.seq, chunkId: r.chunk_id, vector: fromBlob(r.vector) });
      else deletedChunkIds.push(r.chunk_id);
    }
    return { rows: out, deletedChunkIds, nextRowId: rows.length ? rows[rows.length - 1]!.seq : afterRowId };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
