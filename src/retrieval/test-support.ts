// Shared helpers for the retrieval tests: an in-memory store, documents from
// plain strings, and a deterministic bag-of-words hashing embedder.
import { openDatabase } from "../data/index.js";
import { analyze } from "./analyzer.js";
import { SqliteRetrievalStore } from "./sqlite/retrieval-store.js";
import type { Embedder, Metadata, NewDocument } from "./types.js";

export const memoryStore = (): SqliteRetrievalStore => new SqliteRetrievalStore(openDatabase(":memory:"));

export function doc(source: string, texts: string | string[], metadata: Metadata = {}, title = source): NewDocument {
  const list = Array.isArray(texts) ? texts : [texts];
  return {
    source,
    title,
    contentHash: `hash-${source}-${list.join("|").length}`,
    mime: "text/plain",
    metadata,
    bytes: list.join("").length,
    chunks: list.map((text, ordinal) => ({ ordinal, text, headings: [], start: 0, end: text.length, tokens: text.split(/\s+/).length })),
  };
}

export const DIMS = 64;

/** Bag-of-words hashing: each analyzed term adds 1 to a hashed dimension, then L2-normalised. */
export function hashVector(text: string, dims = DIMS): Float32Array {
  const v = new Float32Array(dims);
  for (const t of analyze(text)) {
    let h = 2166136261;
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619);
    v[(h >>> 0) % dims]! += 1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export class FakeEmbedder implements Embedder {
  calls = 0;
  constructor(readonly model = "fake-embed") {}
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls++;
    return texts.map((t) => hashVector(t));
  }
}

export const withVectors = (d: NewDocument): NewDocument => ({ ...d, vectors: d.chunks.map((c) => hashVector(c.text)) });

export const rankOf = (hits: ReadonlyArray<{ chunkId: string }>, id: string): number => hits.findIndex((h) => h.chunkId === id);
