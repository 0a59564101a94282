// An in-memory ANN index (hnswlib HNSW, cosine) over one collection's vectors,
// fed from the store's vector log: it remembers the log position it has
// applied and, when the collection version moves, applies only what came after
// (deletions first, then additions — see RetrievalStore.vectorsSince).
import hnswlib from "hnswlib-node";

export interface VectorDelta {
  rows: Array<{ rowId: number; chunkId: string; vector: Float32Array }>;
  deletedChunkIds: string[];
  nextRowId?: number;
}

export interface VectorIndexOptions {
  /** HNSW graph degree. */
  m?: number;
  efConstruction?: number;
  /** Search breadth floor (raised to 2k per query). */
  efSearch?: number;
}

export class VectorIndex {
  /** Log position applied so far. */
  cursor = 0;
  /** Collection version this index reflects (-1: never synced). */
  version = -1;
  private readonly hnsw: hnswlib.HierarchicalNSW;
  private readonly labelOf = new Map<string, number>();
  private readonly chunkOf = new Map<number, string>();
  private readonly efSearch: number;

  constructor(
    readonly dimensions: number,
    opts: VectorIndexOptions = {},
  ) {
    this.hnsw = new hnswlib.HierarchicalNSW("cosine", dimensions);
    this.hnsw.initIndex({ maxElements: 1024, m: opts.m ?? 16, efConstruction: opts.efConstruction ?? 100, randomSeed: 42 });
    this.efSearch = opts.efSearch ?? 64;
  }

  get size(): number {
    return this.labelOf.size;
  }

  apply(delta: VectorDelta): void {
    for (const chunkId of delta.deletedChunkIds) this.remove(chunkId);
    const needed = this.hnsw.getCurrentCount() + delta.rows.length;
    if (needed > this.hnsw.getMaxElements()) this.hnsw.resizeIndex(Math.max(needed, this.hnsw.getMaxElements() * 2));
    for (const r of delta.rows) {
      if (r.vector.length !== this.dimensions) continue; // a vector from another model; never mixed in
      this.remove(r.chunkId);
      this.hnsw.addPoint(Array.from(r.vector), r.rowId);
      this.labelOf.set(r.chunkId, r.rowId);
      this.chunkOf.set(r.rowId, r.chunkId);
      if (r.rowId > this.cursor) this.cursor = r.rowId;
    }
    if (delta.nextRowId !== undefined && delta.nextRowId > this.cursor) this.cursor = delta.nextRowId;
  }

  private remove(chunkId: string): void {
    const label = this.labelOf.get(chunkId);
    if (label === undefined) return;
    this.hnsw.markDelete(label);
    this.labelOf.delete(chunkId);
    this.chunkOf.delete(label);
  }

  /** Nearest chunks by cosine similarity, best first. */
  search(query: Float32Array, k: number): Array<{ chunkId: string; score: number }> {
    const n = Math.min(k, this.size);
    if (n <= 0 || query.length !== this.dimensions) return [];
    this.hnsw.setEf(Math.max(this.efSearch, 2 * n));
    const res = this.hnsw.searchKnn(Array.from(query), n);
    const out: Array<{ chunkId: string; score: number }> = [];
    res.neighbors.forEach((label, i) => {
      const chunkId = this.chunkOf.get(label);
      if (chunkId !== undefined) out.push({ chunkId, score: 1 - res.distances[i]! });
    });
    return out;
  }

  /** The stored (normalised) vector of a chunk, for MMR. */
  vector(chunkId: string): Float32Array | undefined {
    const label = this.labelOf.get(chunkId);
    return label === undefined ? undefined : Float32Array.from(this.hnsw.getPoint(label));
  }
}
