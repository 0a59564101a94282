// RetrievalStore on PostgreSQL. Collections, documents and chunks are plain
// tables; each chunk carries a tsvector (title and headings weight A, body D)
// with a GIN index, scored BM25-style in SQL: per query term, IDF from its
// chunk frequency in the collection times a saturated, length-normalised term
// frequency (ts_rank_cd of the single term, i.e. its weighted occurrences).
// Vectors use pgvector when the server has it: one `retrieval_chunk_vectors`
// table with an untyped `vector` column and, per embedded collection, a partial
// HNSW index on `embedding::vector(D)` (WHERE collection_id = that collection);
// denseSearch orders by cosine distance in SQL. Without pgvector the store is
// lexical only and any vector write fails with a clear message.
//
// Writes to a collection take its row lock first (SELECT ... FOR UPDATE), so
// they serialize per collection: version bumps and counters stay exact, and the
// vector log's sequence numbers are assigned in commit order (vectorsSince never
// skips a row committed later with a smaller number).
import { randomUUID } from "node:crypto";
import { StratumError } from "../../core/errors.js";
import type { PgPool } from "../../data/postgres/index.js";
import { analyze } from "../analyzer.js";
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
import { filterToPgSql } from "./filter.js";
import { RETRIEVAL_PG_MIGRATIONS, RETRIEVAL_PG_MODULE, RETRIEVAL_PG_VECTOR_MIGRATIONS, RETRIEVAL_PG_VECTOR_MODULE } from "./migrations.js";
import { isQueryable, pgPoolQueryable, type Queryable, type SqlRunner } from "./queryable.js";

export const PGVECTOR_MISSING_MESSAGE =
  "pgvector is not installed in this PostgreSQL: install the postgresql-15-pgvector package (or build pgvector) and restart; lexical search works without it";

/** Distinct query words looked at, in query order. */
const MAX_QUERY_WORDS = 32;
/** Longer "words" are noise (hashes, base64) and PostgreSQL ignores words over 2047 bytes anyway. */
const MAX_WORD = 100;
const WORD = /[\p{L}\p{N}]+/gu;
/** BM25 parameters. */
const K1 = 1.2;
const B = 0.75;
/** ts_rank_cd weights {D, C, B, A}: an A occurrence (title, headings) counts twice a D one (body), as the SQLite store's 2:1. */
const RANK_WEIGHTS = "{0.5,0.5,0.5,1.0}";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface PgRetrievalStoreOptions {
  /** Apply the retrieval migrations on open (default true; idempotent). */
  migrate?: boolean;
  /** hnsw.ef_search floor for dense search (default 40, pgvector's default); raised to k when k is larger. */
  efSearch?: number;
}

interface CollectionRow {
  id: string;
  tenant: string;
  name: string;
  embedding_model: string | null;
  dimensions: number | null;
  created_at: string | number;
  version: string | number;
  chunk_count: string | number;
}
interface DocumentRow {
  id: string;
  collection_id: string;
  source: string;
  title: string;
  content_hash: string;
  mime: string;
  metadata: Metadata | string;
  chunk_count: number;
  bytes: string | number;
  created_at: string | number;
  updated_at: string | number;
}
interface ChunkRow {
  id: string;
  document_id: string;
  collection_id: string;
  ordinal: number;
  text: string;
  headings: string[] | string;
  start_offset: number;
  end_offset: number;
  tokens: number;
}

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);
const toCollection = (r: CollectionRow): Collection => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  embeddingModel: r.embedding_model,
  dimensions: r.dimensions === null ? null : Number(r.dimensions),
  createdAt: Number(r.created_at),
  version: Number(r.version),
});
const toDocument = (r: DocumentRow): DocumentRecord => ({
  id: r.id,
  collectionId: r.collection_id,
  source: r.source,
  title: r.title,
  contentHash: r.content_hash,
  mime: r.mime,
  metadata: json<Metadata>(r.metadata),
  chunkCount: Number(r.chunk_count),
  bytes: Number(r.bytes),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});
const toChunk = (r: ChunkRow): ChunkRecord => ({
  id: r.id,
  documentId: r.document_id,
  collectionId: r.collection_id,
  ordinal: Number(r.ordinal),
  text: r.text,
  headings: json<string[]>(r.headings),
  start: Number(r.start_offset),
  end: Number(r.end_offset),
  tokens: Number(r.tokens),
});

/** PostgreSQL text cannot hold NUL. */
const clean = (s: string): string => (s.includes("\u0000") ? s.replaceAll("\u0000", "") : s);
/** JSON for a JSONB column: NUL removed from every string value (JSONB rejects \u0000). */
const cleanJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "string" ? clean(x) : x));
const cleanMeta = (m: Metadata): string => cleanJson(m ?? {});
const toPgVector = (v: Float32Array): string => `[${Array.from(v).join(",")}]`;
const fromPgVector = (v: unknown): Float32Array => Float32Array.from(typeof v === "string" ? (JSON.parse(v) as number[]) : (v as number[]));

/** Words of a free-text query: letters and digits only, distinct, capped (nothing else reaches SQL, and only as bound values). */
export function queryWords(query: string): string[] {
  const out = new Set<string>();
  for (const m of query.toLowerCase().matchAll(WORD)) {
    if (m[0].length > MAX_WORD) continue;
    out.add(m[0]);
    if (out.size >= MAX_QUERY_WORDS) break;
  }
  return [...out];
}

const COLLECTION_COLUMNS = "id, tenant, name, embedding_model, dimensions, created_at, version, chunk_count";
const DOCUMENT_COLUMNS = "id, collection_id, source, title, content_hash, mime, metadata, chunk_count, bytes, created_at, updated_at";
const CHUNK_COLUMNS = "id, document_id, collection_id, ordinal, text, headings, start_offset, end_offset, tokens";

export class PgRetrievalStore implements RetrievalStore {
  private constructor(
    private readonly db: Queryable,
    /** pgvector is installed (its migrations applied). */
    readonly vectors: boolean,
    /** pgvector ≥ 0.8: filtered HNSW scans continue until k rows pass (hnsw.iterative_scan). */
    private readonly iterativeScan: boolean,
    private readonly efSearch: number,
  ) {}

  /**
   * Opens the store on a pg.Pool (search_path = the schema to use) or any
   * Queryable (e.g. pgliteQueryable): applies the migrations, detects pgvector
   * and, when available, installs it (CREATE EXTENSION needs the privilege).
   */
  static async open(db: PgPool | Queryable, opts: PgRetrievalStoreOptions = {}): Promise<PgRetrievalStore> {
    const q = isQueryable(db) ? db : pgPoolQueryable(db);
    if (opts.migrate !== false) await q.migrate(RETRIEVAL_PG_MODULE, RETRIEVAL_PG_MIGRATIONS);
    const available = (await q.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).rows.length > 0;
    if (available && opts.migrate !== false) await q.migrate(RETRIEVAL_PG_VECTOR_MODULE, RETRIEVAL_PG_VECTOR_MIGRATIONS);
    const installed = available
      ? (await q.query<{ extversion: string; t: string | null }>(
          "SELECT extversion, to_regclass('retrieval_chunk_vectors')::text AS t FROM pg_extension WHERE extname = 'vector'",
        )).rows[0]
      : undefined;
    const vectors = !!installed?.t;
    const [major = 0, minor = 0] = (installed?.extversion ?? "0.0").split(".").map(Number);
    return new PgRetrievalStore(q, vectors, major > 0 || minor >= 8, Math.max(1, opts.efSearch ?? 40));
  }

  private requireVectors(): void {
    if (!this.vectors) throw new StratumError("Unavailable", PGVECTOR_MISSING_MESSAGE, { code: "pgvector_missing", retryable: false });
  }

  private async collectionRow(q: SqlRunner, collectionId: string, lock = false): Promise<CollectionRow | undefined> {
    const { rows } = await q.query<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM retrieval_collections WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [collectionId]);
    return rows[0];
  }

  async ensureCollection(tenant: string, name: string): Promise<Collection> {
    const args = [clean(tenant), clean(name)];
    // Two statements: after a concurrent insert wins the conflict, only a new statement's snapshot sees its row.
    for (;;) {
      const ins = await this.db.query<CollectionRow>(
        `INSERT INTO retrieval_collections (id, tenant, name, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, name) DO NOTHING RETURNING ${COLLECTION_COLUMNS}`,
        [randomUUID(), ...args, Date.now()],
      );
      const row = ins.rows[0] ?? (await this.db.query<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM retrieval_collections WHERE tenant = $1 AND name = $2`, args)).rows[0];
      if (row) return toCollection(row);
      // Deleted in between: try again.
    }
  }
  async getCollection(tenant: string, name: string): Promise<Collection | undefined> {
    const { rows } = await this.db.query<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM retrieval_collections WHERE tenant = $1 AND name = $2`, [
      clean(tenant),
      clean(name),
    ]);
    return rows[0] && toCollection(rows[0]);
  }
  async getCollectionById(collectionId: string): Promise<Collection | undefined> {
    const row = await this.collectionRow(this.db, collectionId);
    return row && toCollection(row);
  }
  async listCollections(tenant: string): Promise<Collection[]> {
    const { rows } = await this.db.query<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM retrieval_collections WHERE tenant = $1 ORDER BY name COLLATE "C"`, [
      clean(tenant),
    ]);
    return rows.map(toCollection);
  }
  async deleteCollection(tenant: string, name: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>("DELETE FROM retrieval_collections WHERE tenant = $1 AND name = $2 RETURNING id", [clean(tenant), clean(name)]);
      const id = rows[0]?.id;
      if (!id) return false;
      // Documents, chunks, vectors and tombstones cascade; the collection's HNSW index goes too.
      if (this.vectors && UUID.test(id)) await tx.exec(`DROP INDEX IF EXISTS ${hnswIndexName(id)}`);
      return true;
    });
  }

  async setEmbeddingModel(collectionId: string, model: string, dimensions: number): Promise<void> {
    this.requireVectors();
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 2000) {
      // pgvector's HNSW index takes up to 2000 dimensions for `vector`.
      throw new StratumError("InvalidRequest", `embedding dimensions must be an integer in [1, 2000] for a pgvector HNSW index (got ${dimensions})`);
    }
    await this.db.transaction(async (tx) => {
      const row = await this.collectionRow(tx, collectionId, true);
      if (!row) throw new Error(`unknown collection ${collectionId}`);
      if (row.embedding_model === model && row.dimensions === dimensions) return;
      if (row.dimensions !== null && row.dimensions !== dimensions) {
        const { rows } = await tx.query("SELECT 1 FROM retrieval_chunk_vectors WHERE collection_id = $1 LIMIT 1", [collectionId]);
        if (rows.length) throw new Error(`collection ${row.name} holds ${row.dimensions}-d vectors; cannot switch to ${dimensions}-d`);
      }
      await tx.query("UPDATE retrieval_collections SET embedding_model = $1, dimensions = $2, version = version + 1 WHERE id = $3", [model, dimensions, collectionId]);
      if (row.dimensions !== dimensions && UUID.test(collectionId)) {
        // The id is a UUID we generated (checked): safe as a literal, which the partial index needs.
        const idx = hnswIndexName(collectionId);
        await tx.exec(
          `DROP INDEX IF EXISTS ${idx}; CREATE INDEX ${idx} ON retrieval_chunk_vectors USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE collection_id = '${collectionId}'`,
        );
      }
    });
  }

  async listDocuments(collectionId: string): Promise<DocumentRecord[]> {
    const { rows } = await this.db.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM retrieval_documents WHERE collection_id = $1 ORDER BY source COLLATE "C"`, [collectionId]);
    return rows.map(toDocument);
  }
  async getDocument(collectionId: string, documentId: string): Promise<DocumentRecord | undefined> {
    const { rows } = await this.db.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM retrieval_documents WHERE collection_id = $1 AND id = $2`, [collectionId, documentId]);
    return rows[0] && toDocument(rows[0]);
  }
  async findDocumentBySource(collectionId: string, source: string): Promise<DocumentRecord | undefined> {
    const { rows } = await this.db.query<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM retrieval_documents WHERE collection_id = $1 AND source = $2`, [
      collectionId,
      clean(source),
    ]);
    return rows[0] && toDocument(rows[0]);
  }

  async putDocument(collectionId: string, doc: NewDocument): Promise<DocumentRecord> {
    return (await this.putDocuments(collectionId, [doc]))[0]!;
  }

  /** Several documents in one transaction: all or none. */
  async putDocuments(collectionId: string, docs: readonly NewDocument[]): Promise<DocumentRecord[]> {
    for (const doc of docs) {
      if (doc.vectors && doc.vectors.length !== doc.chunks.length) {
        throw new Error(`putDocument ${doc.source}: ${doc.vectors.length} vectors for ${doc.chunks.length} chunks`);
      }
    }
    return this.db.transaction(async (tx) => {
      const col = await this.collectionRow(tx, collectionId, true);
      if (!col) throw new Error(`unknown collection ${collectionId}`);
      let chunkDelta = 0;
      let lexemeDelta = 0;
      const out: DocumentRecord[] = [];
      for (const doc of docs) {
        if (doc.vectors?.length) {
          this.requireVectors();
          if (col.dimensions === null) throw new Error(`collection ${col.name} has no embedding model: call setEmbeddingModel first`);
          for (const v of doc.vectors) {
            if (v.length !== col.dimensions) throw new Error(`vector of ${v.length} dimensions in a ${col.dimensions}-d collection`);
          }
        }
        const now = Date.now();
        const source = clean(doc.source);
        const existing = (await tx.query<{ id: string }>("SELECT id FROM retrieval_documents WHERE collection_id = $1 AND source = $2", [collectionId, source])).rows[0];
        const id = existing?.id ?? randomUUID();
        if (existing) {
          const removed = await this.removeChunks(tx, collectionId, id);
          chunkDelta -= removed.chunks;
          lexemeDelta -= removed.lexemes;
        }
        const { rows } = await tx.query<DocumentRow>(
          `INSERT INTO retrieval_documents (id, collection_id, source, title, content_hash, mime, metadata, chunk_count, bytes, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $10)
           ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, content_hash = EXCLUDED.content_hash, mime = EXCLUDED.mime,
             metadata = EXCLUDED.metadata, chunk_count = EXCLUDED.chunk_count, bytes = EXCLUDED.bytes, updated_at = EXCLUDED.updated_at
           RETURNING ${DOCUMENT_COLUMNS}`,
          [id, collectionId, source, clean(doc.title), clean(doc.contentHash), clean(doc.mime), cleanMeta(doc.metadata), doc.chunks.length, doc.bytes, now],
        );
        if (doc.chunks.length) {
          const c = doc.chunks;
          const inserted = await tx.query<{ n: string | number; lexemes: string | number | null }>(
            `WITH ins AS (
               INSERT INTO retrieval_chunks (id, document_id, collection_id, ordinal, text, headings, start_offset, end_offset, tokens, tsv, lexemes)
               SELECT u.id, $1, $2, u.ordinal, u.text, u.headings::jsonb, u.s, u.e, u.tokens, v.tsv, length(v.tsv)
               FROM unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::int[], $10::int[], $11::int[])
                 AS u(id, ordinal, text, headings, heading_text, s, e, tokens)
               CROSS JOIN LATERAL (SELECT setweight(to_tsvector('english', $3), 'A')
                 || setweight(to_tsvector('english', u.heading_text), 'A')
                 || setweight(to_tsvector('english', u.text), 'D') AS tsv) v
               RETURNING lexemes)
             SELECT count(*) AS n, sum(lexemes) AS lexemes FROM ins`,
            [
              id,
              collectionId,
              clean(doc.title),
              c.map((x) => `${id}:${x.ordinal}`),
              c.map((x) => x.ordinal),
              c.map((x) => clean(x.text)),
              c.map((x) => cleanJson(x.headings ?? [])),
              c.map((x) => clean((x.headings ?? []).join(" "))),
              c.map((x) => x.start),
              c.map((x) => x.end),
              c.map((x) => x.tokens),
            ],
          );
          chunkDelta += Number(inserted.rows[0]!.n);
          lexemeDelta += Number(inserted.rows[0]!.lexemes ?? 0);
          if (doc.vectors?.length) {
            await tx.query(
              `INSERT INTO retrieval_chunk_vectors (chunk_id, collection_id, document_id, embedding)
               SELECT u.chunk_id, $1, $2, u.embedding::vector FROM unnest($3::text[], $4::text[]) AS u(chunk_id, embedding)`,
              [collectionId, id, c.map((x) => `${id}:${x.ordinal}`), doc.vectors.map(toPgVector)],
            );
          }
        }
        out.push(toDocument(rows[0]!));
      }
      await tx.query("UPDATE retrieval_collections SET version = version + 1, chunk_count = chunk_count + $1, lexeme_total = lexeme_total + $2 WHERE id = $3", [
        chunkDelta,
        lexemeDelta,
        collectionId,
      ]);
      return out;
    });
  }

  /** Deletes a document's chunks (their vectors cascade, with tombstones logged). Returns what was removed. */
  private async removeChunks(tx: SqlRunner, collectionId: string, documentId: string): Promise<{ chunks: number; lexemes: number }> {
    if (this.vectors) {
      await tx.query(
        "INSERT INTO retrieval_vector_tombstones (collection_id, chunk_id) SELECT $1, chunk_id FROM retrieval_chunk_vectors WHERE document_id = $2 ORDER BY chunk_id",
        [collectionId, documentId],
      );
    }
    const { rows } = await tx.query<{ n: string | number; lexemes: string | number | null }>(
      "WITH del AS (DELETE FROM retrieval_chunks WHERE document_id = $1 RETURNING lexemes) SELECT count(*) AS n, sum(lexemes) AS lexemes FROM del",
      [documentId],
    );
    return { chunks: Number(rows[0]!.n), lexemes: Number(rows[0]!.lexemes ?? 0) };
  }

  async deleteDocument(collectionId: string, documentId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const col = await this.collectionRow(tx, collectionId, true);
      if (!col) return false;
      const { rows } = await tx.query("SELECT 1 FROM retrieval_documents WHERE collection_id = $1 AND id = $2", [collectionId, documentId]);
      if (!rows.length) return false;
      const removed = await this.removeChunks(tx, collectionId, documentId);
      await tx.query("DELETE FROM retrieval_documents WHERE id = $1", [documentId]);
      await tx.query("UPDATE retrieval_collections SET version = version + 1, chunk_count = chunk_count - $1, lexeme_total = lexeme_total - $2 WHERE id = $3", [
        removed.chunks,
        removed.lexemes,
        collectionId,
      ]);
      return true;
    });
  }

  async getChunks(ids: readonly string[]): Promise<ChunkRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM retrieval_chunks WHERE id = ANY($1::text[])`, [ids.map(clean)]);
    const byId = new Map(rows.map((r) => [r.id, toChunk(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async lexicalSearch(collectionId: string, query: string, k: number, filter?: MetadataFilter): Promise<LexicalHit[]> {
    const where = filterToPgSql(filter, "d.metadata", 4); // validates the filter even when nothing would match
    const words = queryWords(query);
    if (k <= 0 || words.length === 0) return [];
    const filtered = where.sql !== "TRUE";
    // One statement: the filter sits with the match, the ranking and the LIMIT, so the top k are the top k of the filtered set.
    const sql = `
      WITH words AS (
        SELECT DISTINCT plainto_tsquery('english', w) AS tq FROM unnest($2::text[]) AS w
      ), terms AS (
        SELECT tq, (SELECT count(*) FROM retrieval_chunks c WHERE c.collection_id = $1 AND c.tsv @@ words.tq) AS df
        FROM words WHERE numnode(tq) > 0
      ), col AS (
        SELECT chunk_count::float8 AS n, GREATEST(lexeme_total::float8 / GREATEST(chunk_count, 1), 1) AS avgdl
        FROM retrieval_collections WHERE id = $1
      ), weighted AS (
        SELECT t.tq, ln(1 + (col.n - t.df + 0.5) / (t.df + 0.5)) AS idf FROM terms t, col WHERE t.df > 0
      ), matched AS (
        SELECT c.id, c.tsv, c.lexemes FROM retrieval_chunks c
        ${filtered ? "JOIN retrieval_documents d ON d.id = c.document_id" : ""}
        WHERE c.collection_id = $1 AND c.tsv @@ (SELECT retrieval_tsquery_or(tq) FROM weighted)
        ${filtered ? `AND ${where.sql}` : ""}
      )
      SELECT m.id, SUM(w.idf * r.tf * ${K1 + 1} / (r.tf + ${K1} * (${1 - B} + ${B} * m.lexemes / col.avgdl))) AS score
      FROM matched m CROSS JOIN col CROSS JOIN weighted w
      CROSS JOIN LATERAL (SELECT 2 * ts_rank_cd('${RANK_WEIGHTS}', m.tsv, w.tq, 0) AS tf) r
      WHERE r.tf > 0
      GROUP BY m.id ORDER BY score DESC, m.id LIMIT $3`;
    const { rows } = await this.db.query<{ id: string; score: number | string }>(sql, [collectionId, words, Math.floor(k), ...where.params]);
    return rows.map((r) => ({ chunkId: r.id, score: Number(r.score) }));
  }

  /**
   * Chunk frequencies of the query's analyzed terms (the Retriever's analyzer):
   * each query word is counted with PostgreSQL's english stemming and credited
   * to the term(s) the analyzer makes of it.
   */
  async queryTermStats(collectionId: string, query: string): Promise<QueryTermStats> {
    const col = await this.collectionRow(this.db, collectionId);
    if (!col) return { chunks: 0, terms: [] };
    const words = queryWords(query);
    const { rows } = words.length
      ? await this.db.query<{ w: string; df: string | number }>(
          `SELECT w, CASE WHEN numnode(plainto_tsquery('english', w)) = 0 THEN 0 ELSE
             (SELECT count(*) FROM retrieval_chunks c WHERE c.collection_id = $1 AND c.tsv @@ plainto_tsquery('english', w)) END AS df
           FROM unnest($2::text[]) AS w`,
          [collectionId, words],
        )
      : { rows: [] };
    const df = new Map<string, number>();
    for (const r of rows) for (const t of analyze(r.w)) df.set(t, Math.max(df.get(t) ?? 0, Number(r.df)));
    return { chunks: Number(col.chunk_count), terms: [...df].map(([term, n]) => ({ term, df: n })) };
  }

  /** Nearest chunks by cosine similarity (1 − cosine distance), in SQL over the collection's HNSW index; filters apply before the LIMIT. */
  async denseSearch(collectionId: string, vector: Float32Array, k: number, filter?: MetadataFilter): Promise<Array<{ chunkId: string; score: number }>> {
    const where = filterToPgSql(filter, "d.metadata", 3);
    if (!this.vectors || k <= 0 || !UUID.test(collectionId)) return [];
    const col = await this.collectionRow(this.db, collectionId);
    const dims = col?.dimensions;
    if (!col || !dims) return [];
    if (vector.length !== dims) throw new StratumError("InvalidRequest", `query vector of ${vector.length} dimensions in a ${dims}-d collection`);
    const filtered = where.sql !== "TRUE";
    const distance = `v.embedding::vector(${dims}) <=> $1::vector(${dims})`;
    // Old pgvector (no iterative scan) post-filters the HNSW candidates and may return fewer than k: order exactly instead.
    const order = filtered && !this.iterativeScan ? `(${distance}) + 0` : distance;
    const sql = `
      SELECT chunk_id, score FROM (
        SELECT v.chunk_id, 1 - (${distance}) AS score, ${order} AS dist FROM retrieval_chunk_vectors v
        ${filtered ? "JOIN retrieval_documents d ON d.id = v.document_id" : ""}
        WHERE v.collection_id = '${collectionId}' ${filtered ? `AND ${where.sql}` : ""}
        ORDER BY ${order} LIMIT $2
      ) hits ORDER BY dist, chunk_id`;
    const params = [toPgVector(vector), Math.floor(k), ...where.params];
    const ef = Math.min(1000, Math.max(this.efSearch, Math.floor(k)));
    const { rows } = await this.db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL hnsw.ef_search = ${ef}${filtered && this.iterativeScan ? "; SET LOCAL hnsw.iterative_scan = relaxed_order" : ""}`);
      return tx.query<{ chunk_id: string; score: number | string | null }>(sql, params);
    });
    return rows.map((r) => {
      const s = Number(r.score);
      return { chunkId: r.chunk_id, score: Number.isFinite(s) ? s : 0 };
    });
  }

  async vectorsSince(collectionId: string, afterRowId: number) {
    if (!this.vectors) return { rows: [], deletedChunkIds: [], nextRowId: afterRowId };
    const [live, dead] = await Promise.all([
      this.db.query<{ seq: string | number; chunk_id: string; embedding: unknown }>(
        "SELECT seq, chunk_id, embedding::text AS embedding FROM retrieval_chunk_vectors WHERE collection_id = $1 AND seq > $2 ORDER BY seq",
        [collectionId, afterRowId],
      ),
      this.db.query<{ seq: string | number; chunk_id: string }>(
        "SELECT seq, chunk_id FROM retrieval_vector_tombstones WHERE collection_id = $1 AND seq > $2 ORDER BY seq",
        [collectionId, afterRowId],
      ),
    ]);
    const rows = live.rows.map((r) => ({ rowId: Number(r.seq), chunkId: r.chunk_id, vector: fromPgVector(r.embedding) }));
    const last = Math.max(afterRowId, ...rows.map((r) => r.rowId), ...dead.rows.map((r) => Number(r.seq)));
    return { rows, deletedChunkIds: dead.rows.map((r) => r.chunk_id), nextRowId: last };
  }

  /** The pool (or PGlite) belongs to the caller: nothing to close here. */
  async close(): Promise<void> {}
}

/** Name of a collection's partial HNSW index (the id is a checked UUID). */
const hnswIndexName = (collectionId: string): string => `retrieval_vec_hnsw_${collectionId.replaceAll("-", "")}`;
