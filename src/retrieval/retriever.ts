// The search pipeline: resolve the collection by (tenant, name) → lexical BM25
// (always) and dense ANN (when the collection is embedded and an embedder of
// the same model is present) → reciprocal rank fusion → MMR → confidence.
import { StratumError } from "../core/errors.js";
import { analyzeUnique } from "./analyzer.js";
import { blendConfidence, denseConfidence, lexicalConfidence } from "./confidence.js";
import { reciprocalRankFusion } from "./fusion.js";
import { InvalidFilterError, matchesFilter } from "./metadata-filter.js";
import { cosine, jaccard, mmr } from "./mmr.js";
import type { ChunkRecord, Collection, DocumentRecord, Embedder, RetrievalStore, SearchHit, SearchMode, SearchRequest, SearchResult } from "./types.js";
import { VectorIndex, type VectorIndexOptions } from "./vector-index.js";

export interface RetrieverOptions {
  embedder?: Embedder;
  /** Candidates taken from each list before fusion and MMR (default max(50, 4k)). */
  candidates?: number;
  /** Dense search over-fetch factor when a metadata filter applies (default 5). */
  filterOverfetch?: number;
  vectorIndex?: VectorIndexOptions;
}

const DEFAULT_K = 5;
const MAX_K = 100;
const DEFAULT_LAMBDA = 0.7;
const NEAR_DUPLICATE = 0.7;

type DocInfo = Pick<DocumentRecord, "id" | "source" | "title" | "metadata">;

export class Retriever {
  private readonly embedder: Embedder | undefined;
  private readonly indexes = new Map<string, VectorIndex>();
  /** One catch-up at a time per collection. */
  private readonly syncing = new Map<string, Promise<VectorIndex>>();

  constructor(
    private readonly store: RetrievalStore,
    private readonly opts: RetrieverOptions = {},
  ) {
    this.embedder = opts.embedder;
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    const started = performance.now();
    const k = Math.min(MAX_K, Math.max(1, Math.floor(req.k ?? DEFAULT_K)));
    // Tenant isolation: the only way in is (tenant, name); ids are never accepted from the caller.
    const collection = await this.store.getCollection(req.tenant, req.collection);
    if (!collection) throw new StratumError("NotFound", `collection '${req.collection}' not found`, { param: "collection" });
    const mode = this.effectiveMode(req.mode ?? "hybrid", collection);
    const pool = Math.max(this.opts.candidates ?? 50, 4 * k);

    try {
      const [lexical, dense] = await Promise.all([
        mode === "dense" ? undefined : this.store.lexicalSearch(collection.id, req.query, pool, req.filter),
        mode === "lexical" ? undefined : this.denseSearch(collection, req, pool),
      ]);
      const fused =
        lexical && dense ? reciprocalRankFusion([lexical, dense.hits]) : (lexical ?? dense!.hits).map((h) => ({ chunkId: h.chunkId, score: h.score }));

      const chunks = new Map((await this.store.getChunks(fused.map((f) => f.chunkId))).map((c) => [c.id, c]));
      // Chunks must belong to this collection (a store shared by tenants never leaks across).
      const candidates = fused.filter((f) => chunks.get(f.chunkId)?.collectionId === collection.id);
      const lambda = req.mmr === false ? 1 : (req.mmr?.lambda ?? DEFAULT_LAMBDA);
      const order = lambda >= 1
        ? candidates.slice(0, k).map((c) => c.chunkId)
        : mmr(candidates.map((c) => ({ id: c.chunkId, score: c.score })), k, lambda, this.similarity(collection.id, chunks));

      const docs = await this.documents(collection.id, order.map((id) => chunks.get(id)!));
      const lexScore = new Map(lexical?.map((h) => [h.chunkId, h.score]));
      const denseScore = new Map(dense?.hits.map((h) => [h.chunkId, h.score]));
      const fusedScore = new Map(candidates.map((c) => [c.chunkId, c.score]));
      const hits: SearchHit[] = order.map((id) => {
        const chunk = chunks.get(id)!;
        const hit: SearchHit = { chunk, document: docs.get(chunk.documentId)!, score: fusedScore.get(id)! };
        const l = lexScore.get(id);
        const d = denseScore.get(id);
        if (l !== undefined) hit.lexicalScore = l;
        if (d !== undefined) hit.denseScore = d;
        return hit;
      });

      const confidence = await this.confidence(collection, req.query, hits, lexical !== undefined, dense?.hits[0]?.score);
      return { hits, confidence, mode, tookMs: performance.now() - started };
    } catch (e) {
      if (e instanceof InvalidFilterError) throw new StratumError("InvalidRequest", e.message, { param: "filter" });
      throw e;
    }
  }

  /** Dense needs an embedded collection and an embedder of the same model; otherwise lexical. */
  private effectiveMode(wanted: SearchMode, c: Collection): SearchMode {
    const denseOk = !!this.embedder && c.embeddingModel === this.embedder.model && !!c.dimensions;
    return denseOk ? wanted : "lexical";
  }

  private async denseSearch(collection: Collection, req: SearchRequest, pool: number) {
    if (this.store.denseSearch) {
      // The store searches in the database (filters included): no in-memory index.
      const [query] = await this.embedder!.embed([req.query]);
      return { hits: query ? await this.store.denseSearch(collection.id, query, pool, req.filter) : [] };
    }
    const [[query], index] = await Promise.all([this.embedder!.embed([req.query]), this.index(collection)]);
    if (!query) return { hits: [] as Array<{ chunkId: string; score: number }>, index };
    const filtered = req.filter && Object.keys(req.filter).length > 0;
    let hits = index.search(query, filtered ? pool * (this.opts.filterOverfetch ?? 5) : pool);
    if (filtered) {
      // Over-fetch, then keep the hits whose document passes the filter.
      const chunks = await this.store.getChunks(hits.map((h) => h.chunkId));
      const docs = await this.documents(collection.id, chunks);
      const pass = new Set(chunks.filter((c) => { const d = docs.get(c.documentId); return d && matchesFilter(d.metadata, req.filter); }).map((c) => c.id));
      hits = hits.filter((h) => pass.has(h.chunkId)).slice(0, pool);
    }
    return { hits, index };
  }

  /** The collection's ANN index, caught up with the store when the collection version moved. */
  private async index(collection: Collection): Promise<VectorIndex> {
    const running = this.syncing.get(collection.id);
    if (running) return running;
    let index = this.indexes.get(collection.id);
    if (index && index.version === collection.version && index.dimensions === collection.dimensions) return index;
    const sync = (async () => {
      if (!index || index.dimensions !== collection.dimensions) {
        index = new VectorIndex(collection.dimensions!, this.opts.vectorIndex);
        this.indexes.set(collection.id, index);
      }
      const delta = await this.store.vectorsSince(collection.id, index.cursor);
      index.apply(delta);
      index.version = collection.version;
      return index;
    })();
    this.syncing.set(collection.id, sync);
    try {
      return await sync;
    } finally {
      this.syncing.delete(collection.id);
    }
  }

  /** Vectors when the collection is indexed densely, else token-set Jaccard. */
  private similarity(collectionId: string, chunks: Map<string, ChunkRecord>): (a: string, b: string) => number {
    const index = this.indexes.get(collectionId);
    const vecs = new Map<string, Float32Array | undefined>();
    const sets = new Map<string, Set<string>>();
    const vec = (id: string) => {
      if (!vecs.has(id)) vecs.set(id, index?.vector(id));
      return vecs.get(id);
    };
    const set = (id: string) => {
      let s = sets.get(id);
      if (!s) sets.set(id, (s = new Set(analyzeUnique(chunks.get(id)?.text ?? ""))));
      return s;
    };
    return (a, b) => {
      const va = vec(a);
      const vb = va && vec(b);
      if (va && vb) return cosine(va, vb);
      // Token-set Jaccard under-rates near-duplicates (one changed word in a short chunk costs a lot): count ≥ 0.7 as a copy.
      const j = jaccard(set(a), set(b));
      return j >= NEAR_DUPLICATE ? 1 : j;
    };
  }

  private async documents(collectionId: string, chunks: readonly ChunkRecord[]): Promise<Map<string, DocInfo>> {
    const out = new Map<string, DocInfo>();
    for (const id of new Set(chunks.map((c) => c.documentId))) {
      const d = await this.store.getDocument(collectionId, id);
      if (d) out.set(id, { id: d.id, source: d.source, title: d.title, metadata: d.metadata });
    }
    return out;
  }

  private async confidence(collection: Collection, query: string, hits: SearchHit[], lexical: boolean, bestCosine: number | undefined): Promise<number> {
    const best = hits[0];
    if (!best) return 0;
    let lex: number | undefined;
    if (lexical) {
      // The best lexical hit among those returned (MMR may have moved it).
      const top = hits.reduce((a, b) => ((b.lexicalScore ?? -Infinity) > (a.lexicalScore ?? -Infinity) ? b : a));
      const terms = new Set(analyzeUnique(`${top.chunk.text} ${top.chunk.headings.join(" ")} ${top.document.title}`));
      const stats = this.store.queryTermStats
        ? await this.store.queryTermStats(collection.id, query)
        : { chunks: 1, terms: analyzeUnique(query).map((term) => ({ term, df: 0 })) }; // no stats: plain term overlap
      lex = lexicalConfidence(stats.chunks, stats.terms, top.lexicalScore === undefined ? new Set() : terms);
    }
    const dense = bestCosine === undefined ? undefined : denseConfidence(bestCosine);
    return Math.round(blendConfidence(lex, dense) * 1000) / 1000;
  }
}
